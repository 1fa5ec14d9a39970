"""An account's Alpaca keys from AWS Secrets Manager (moto's server): read as a pair; a missing or malformed
secret is an error that names the secret and never shows a value; the settings take a secret id instead of
the pair."""

from __future__ import annotations

import json

import boto3
import pytest

from brokers.account_keys import AccountKeysUnavailable, keys_from_secret
from workers.settings import load_settings

REGION = "us-east-1"


@pytest.fixture
def secrets(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint)


async def test_an_accounts_key_pair_is_read_from_its_secret(secrets: object) -> None:
    pair = {"api_key": "PKGROWTH0000000000001", "secret_key": "growth-secret-value"}
    secrets.create_secret(Name="tradeflow/alpaca/growth", SecretString=json.dumps(pair))  # type: ignore[attr-defined]
    assert await keys_from_secret("tradeflow/alpaca/growth", region=REGION) == (
        "PKGROWTH0000000000001",
        "growth-secret-value",
    )


async def test_a_missing_or_malformed_secret_is_named_and_its_value_never_shown(secrets: object) -> None:
    with pytest.raises(AccountKeysUnavailable, match="tradeflow/alpaca/none could not be read"):
        await keys_from_secret("tradeflow/alpaca/none", region=REGION)
    secrets.create_secret(Name="tradeflow/alpaca/bad", SecretString="hunter2-not-json")  # type: ignore[attr-defined]
    with pytest.raises(AccountKeysUnavailable) as raised:
        await keys_from_secret("tradeflow/alpaca/bad", region=REGION)
    assert "tradeflow/alpaca/bad" in str(raised.value) and "hunter2" not in str(raised.value)


def test_the_settings_take_a_secret_id_in_place_of_the_key_pair() -> None:
    settings = load_settings(
        {"TRADEFLOW_ALPACA_ACCOUNTS": "growth", "ALPACA_GROWTH_SECRET_ID": "arn:secret:growth"}
    )
    [_, growth] = settings.alpaca_accounts
    assert (growth.name, growth.secret_id, growth.api_key) == ("growth", "arn:secret:growth", "")
