"""Encryption at rest on DynamoDB Local: tradeflow asks for none there, and DynamoDB Local would ignore it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aioboto3

from workers.store.dynamodb.store import DynamoTradeStore


async def test_off_aws_tables_are_created_without_an_sse_specification(dynamodb_local_endpoint: str) -> None:
    store = await DynamoTradeStore.open(
        table_prefix=f"t-{uuid.uuid4().hex[:8]}",
        region="us-east-1",
        endpoint_url=dynamodb_local_endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        kms_key_id="alias/tradeflow",
    )
    created: list[dict[str, Any]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "CreateTable":
            created.append(json.loads(params["body"]))

    store._client.meta.events.register("before-call.dynamodb", record)  # the store's own client
    try:
        await store.create_tables()
    finally:
        await store.close()
    assert len(created) == 4
    assert not any("SSESpecification" in request for request in created)


async def test_dynamodb_local_accepts_an_sse_specification_and_ignores_it(
    dynamodb_local_endpoint: str,
) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}-sse"
    async with aioboto3.Session().client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=dynamodb_local_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        await client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/tradeflow"},
        )
        described = await client.describe_table(TableName=name)
        await client.delete_table(TableName=name)
    assert "SSEDescription" not in described["Table"]
