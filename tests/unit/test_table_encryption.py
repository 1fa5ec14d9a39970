"""Encryption at rest: on AWS every CreateTable request asks for KMS, captured from a real botocore client.

The client is DynamoTradeStore's own, pointed at AWS; botocore hooks answer each call before it is sent and
refuse to send anything, so no request leaves the machine.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from workers.store.dynamodb.store import DynamoTradeStore
from workers.store.dynamodb.tables import Encryption, TableNames, encryption_for, table_definitions


class _Answered:
    def __init__(self, status_code: int = 200) -> None:
        self.status_code = status_code


class AnsweringHooks:
    """Record every request body and answer it as a DynamoDB whose tables are ACTIVE at once."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.created: dict[str, dict[str, Any]] = {}

    def before_call(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[_Answered, dict[str, Any]]:
        body = json.loads(params["body"] or b"{}")
        self.requests.append((model.name, body))
        if model.name == "CreateTable":
            self.created[body["TableName"]] = body
            return _Answered(), {"TableDescription": {"TableStatus": "CREATING"}}
        if model.name == "DescribeTable" and body["TableName"] not in self.created:
            missing = {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}
            return _Answered(400), {"Error": missing}
        if model.name == "DescribeTable":
            created = self.created[body["TableName"]]
            indexes = [
                {**index, "IndexStatus": "ACTIVE"} for index in created.get("GlobalSecondaryIndexes", [])
            ]
            return _Answered(), {"Table": {"TableStatus": "ACTIVE", "GlobalSecondaryIndexes": indexes}}
        if model.name == "DescribeTimeToLive":
            return _Answered(), {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return _Answered(), {}

    @staticmethod
    def never_send(**_: Any) -> None:
        raise AssertionError("a request was about to leave the machine")

    def create_requests(self) -> dict[str, dict[str, Any]]:
        return {body["TableName"]: body for name, body in self.requests if name == "CreateTable"}


async def store_on_aws(hooks: AnsweringHooks, **options: Any) -> DynamoTradeStore:
    store = await DynamoTradeStore.open(
        table_prefix="enc",
        region="us-east-1",
        access_key_id="testing",  # explicit: no credential lookup, which would reach for the network
        secret_access_key="testing",
        **options,
    )
    events = store._client.meta.events  # the store's own client: hooks, as its tracing registers them
    events.register("before-call.dynamodb", hooks.before_call)
    events.register("before-send.dynamodb", hooks.never_send)
    return store


@pytest.fixture
def hooks() -> AnsweringHooks:
    return AnsweringHooks()


async def test_on_aws_every_table_is_created_encrypted_with_the_kms_key_named(hooks: AnsweringHooks) -> None:
    store = await store_on_aws(hooks, kms_key_id="alias/tradeflow")
    try:
        await store.create_tables()
    finally:
        await store.close()
    requests = hooks.create_requests()
    assert sorted(requests) == ["enc-audit", "enc-control", "enc-positions", "enc-trades"]
    for request in requests.values():
        assert request["SSESpecification"] == {
            "Enabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": "alias/tradeflow",
        }
    ttl = [body["TableName"] for name, body in hooks.requests if name == "UpdateTimeToLive"]
    assert sorted(ttl) == ["enc-audit", "enc-control", "enc-trades"]


async def test_on_an_amazonaws_endpoint_without_a_key_the_aws_managed_key_is_asked_for(
    hooks: AnsweringHooks,
) -> None:
    store = await store_on_aws(hooks, endpoint_url="https://dynamodb.eu-west-1.amazonaws.com")
    try:
        await store.create_tables()
    finally:
        await store.close()
    requests = hooks.create_requests().values()
    assert len(requests) == 4
    assert all(request["SSESpecification"] == {"Enabled": True, "SSEType": "KMS"} for request in requests)


@pytest.mark.parametrize(
    ("endpoint", "on_aws"),
    [
        (None, True),
        ("https://dynamodb.us-east-1.amazonaws.com", True),
        ("https://dynamodb-fips.us-gov-west-1.amazonaws.com", True),
        ("https://dynamodb.cn-north-1.amazonaws.com.cn", True),
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
        ("http://dynamodb-local:8000", False),
        ("https://amazonaws.com.evil.example", False),
    ],
)
def test_encryption_is_asked_for_only_on_aws(endpoint: str | None, on_aws: bool) -> None:
    encryption = encryption_for(endpoint, "alias/k")
    assert (encryption is not None) is on_aws
    requests = [d.create_request for d in table_definitions(TableNames.from_prefix("p"), encryption)]
    assert all(("SSESpecification" in request) is on_aws for request in requests)


def test_the_sse_specification_names_the_key_only_when_there_is_one() -> None:
    assert Encryption().sse_specification == {"Enabled": True, "SSEType": "KMS"}
    assert Encryption(kms_key_id="arn:aws:kms:us-east-1:1:key/x").sse_specification["KMSMasterKeyId"] == (
        "arn:aws:kms:us-east-1:1:key/x"
    )
