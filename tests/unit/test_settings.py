"""Settings are read once and a bad one fails at start with the variable's name."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from workers.bootstrap import reconcile_policy
from workers.settings import SettingsError, attempt_limit_s, load_settings, setting_variables


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings.rabbitmq_url.startswith("amqp://127.0.0.1") or "127.0.0.1" in settings.rabbitmq_url
    assert settings.alpaca_paper_enabled is True  # against the emulator `up` starts
    assert settings.symbols == frozenset()  # no allow-list: the stock broker's assets decide
    assert load_settings({"TRADEFLOW_SYMBOLS": "aapl, SPY"}).symbols == {"AAPL", "SPY"}
    assert settings.queue("validation") == "validation"


def test_an_attempt_and_its_order_lease_last_the_fill_wait_and_the_margin() -> None:
    settings = load_settings({"TRADEFLOW_FILL_TIMEOUT_S": "5", "TRADEFLOW_ATTEMPT_MARGIN_S": "25"})
    assert attempt_limit_s(settings) == 30.0
    assert reconcile_policy(settings).attempt_limit.total_seconds() == 30.0
    assert attempt_limit_s(load_settings({})) == 90.0  # the fill wait (30 s) and a minute


def test_values_are_converted() -> None:
    settings = load_settings(
        {"TRADEFLOW_MAX_NOTIONAL": "2500.50", "TRADEFLOW_ALLOW_SHORT": "true", "TRADEFLOW_TRADERS": "U1, U2"}
    )
    assert settings.tradeflow_max_notional == Decimal("2500.50")
    assert settings.tradeflow_allow_short is True
    assert settings.traders == frozenset({"U1", "U2"})


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"TRADEFLOW_MAX_RETRIES": "lots"}, "TRADEFLOW_MAX_RETRIES"),
        ({"TRADEFLOW_MAX_RETRYS": "3"}, "TRADEFLOW_MAX_RETRYS"),
        ({"ALPACA_PAPER_ENABLED": "perhaps"}, "ALPACA_PAPER_ENABLED"),
        ({"TRADEFLOW_STORE": "postgres"}, "TRADEFLOW_STORE"),
        ({"TRADEFLOW_AUDIT_RETENTION_DAYS": "30"}, "TRADEFLOW_AUDIT_RETENTION_DAYS"),
        ({"RABBITMQ_URL": "http://nope"}, "RABBITMQ_URL"),
        ({"TRADEFLOW_ATTEMPT_MARGIN_S": "15"}, "TRADEFLOW_ATTEMPT_MARGIN_S"),
    ],
)
def test_a_bad_setting_fails_with_its_name(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(env)


@pytest.mark.parametrize(
    ("env", "endpoint"),
    [
        ({}, "http://127.0.0.1:8000"),  # absent: DynamoDB Local on loopback
        ({"AWS_ENDPOINT_URL_DYNAMODB": ""}, None),  # set but empty: no custom endpoint, AWS's own
        ({"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8123"}, "http://127.0.0.1:8123"),
    ],
)
def test_an_empty_dynamodb_endpoint_means_aws_and_an_absent_one_dynamodb_local(
    env: dict[str, str], endpoint: str | None
) -> None:
    assert load_settings(env).aws_endpoint_url_dynamodb == endpoint


def test_other_empty_settings_still_take_their_defaults() -> None:
    settings = load_settings({"TRADEFLOW_MAX_RETRIES": "", "AWS_ACCESS_KEY_ID": "", "AWS_REGION": ""})
    assert (settings.tradeflow_max_retries, settings.aws_access_key_id, settings.aws_region) == (
        5,
        "local",
        "us-east-1",
    )


ROOT = Path(__file__).resolve().parents[2]


def _env_example() -> dict[str, str]:
    """.env.example's lines, commented defaults included, as an environment."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.lstrip("# ").split("=", 1) for line in lines if re.match(r"#? ?[A-Z][A-Z0-9_]*=", line))
    return {name: value for name, value in pairs}


def test_env_example_lists_every_setting_with_a_value_tradeflow_accepts() -> None:
    env = _env_example()
    assert set(setting_variables()) <= env.keys()
    load_settings(env)


def test_the_configuration_reference_lists_every_setting() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text()
    table = reference[reference.index("## Configuration") :].split("\n## ", 1)[0]
    missing = [name for name in setting_variables() if f"`{name}`" not in table]
    assert missing == []


def test_env_example_as_it_is_changes_nothing_and_grants_no_role() -> None:
    from dotenv import dotenv_values

    active = {k: v for k, v in dotenv_values(ROOT / ".env.example").items() if v is not None}
    assert active == {}  # every line is a commented default
    assert load_settings(_env_example()) == load_settings({})  # and each shown value is the default
    assert not _env_example()["TRADEFLOW_ADMINS"] and not _env_example()["TRADEFLOW_OPERATOR"]


def test_other_alpaca_accounts_are_named_with_their_key_pairs_and_a_missing_key_is_named() -> None:
    env = {
        "TRADEFLOW_ALPACA_ACCOUNTS": "growth, income",
        "ALPACA_GROWTH_API_KEY": "PKGROWTH0000000000001",
        "ALPACA_GROWTH_SECRET_KEY": "growth-secret",
        "ALPACA_INCOME_API_KEY": "PKINCOME0000000000001",
        "ALPACA_INCOME_SECRET_KEY": "income-secret",
    }
    settings = load_settings(env)
    assert settings.account_names == ("main", "growth", "income")
    assert settings.alpaca_accounts[1].api_key == "PKGROWTH0000000000001"
    from telemetry.redaction import secrets_of

    assert {"growth-secret", "income-secret", "PKINCOME0000000000001"} <= set(secrets_of(settings))
    with pytest.raises(SettingsError, match="ALPACA_INCOME_SECRET_KEY is not set"):
        load_settings({**env, "ALPACA_INCOME_SECRET_KEY": ""})
    with pytest.raises(SettingsError, match="not an account name"):
        load_settings({"TRADEFLOW_ALPACA_ACCOUNTS": "Growth!"})
    with pytest.raises(SettingsError, match="twice"):
        load_settings({**env, "TRADEFLOW_ALPACA_ACCOUNT": "growth"})
