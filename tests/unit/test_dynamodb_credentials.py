"""The keys the DynamoDB client is given: DynamoDB Local's placeholders never go to AWS.

On AWS with no keys configured, none are passed, so boto's default credential chain (an instance or
task role, a profile, SSO, the AWS_* variables) finds the real ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.bootstrap import STORES, dynamodb_keys
from workers.settings import Settings, load_settings
from workers.store.dynamodb.store import DynamoTradeStore

REAL_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY": "example-secret"}


@pytest.mark.parametrize(
    ("env", "keys"),
    [
        ({}, ("local", "local")),  # DynamoDB Local on loopback: its placeholders
        ({"AWS_ENDPOINT_URL_DYNAMODB": "http://dynamodb:8000"}, ("local", "local")),  # any other endpoint
        ({"AWS_ENDPOINT_URL_DYNAMODB": ""}, (None, None)),  # AWS: the default chain
        ({"AWS_ENDPOINT_URL_DYNAMODB": "https://dynamodb.eu-west-1.amazonaws.com"}, (None, None)),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "", **REAL_KEYS}, ("AKIAEXAMPLEKEY", "example-secret")),
    ],
)
def test_the_placeholder_keys_are_not_passed_on_aws(
    env: dict[str, str], keys: tuple[str | None, str | None]
) -> None:
    assert dynamodb_keys(load_settings(env)) == keys


@pytest.fixture
def credential_chain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """boto's default chain finds these keys in the environment, and nothing else of this machine's."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIACHAINKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "chain-secret")
    return "ASIACHAINKEY"


async def _signing_key(settings: Settings) -> tuple[str | None, str]:
    """The key id the opened client signs with, and its endpoint (opening sends no request)."""
    store = await STORES["dynamodb"](settings)
    assert isinstance(store, DynamoTradeStore)
    try:
        return store._client._request_signer._credentials.access_key, store._client.meta.endpoint_url
    finally:
        await store.close()


async def test_on_aws_the_client_signs_with_what_the_default_chain_found(credential_chain: str) -> None:
    settings = load_settings({"AWS_ENDPOINT_URL_DYNAMODB": "", "AWS_REGION": "eu-west-1"})
    assert await _signing_key(settings) == (credential_chain, "https://dynamodb.eu-west-1.amazonaws.com")


async def test_on_dynamodb_local_the_client_signs_with_the_placeholders(credential_chain: str) -> None:
    settings = load_settings({"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8123"})
    assert await _signing_key(settings) == ("local", "http://127.0.0.1:8123")
