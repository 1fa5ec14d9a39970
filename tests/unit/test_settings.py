"""Settings are read once and a bad one fails at start with the variable's name."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workers.settings import SettingsError, load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings.rabbitmq_url.startswith("amqp://127.0.0.1") or "127.0.0.1" in settings.rabbitmq_url
    assert settings.alpaca_paper_enabled is True  # against the emulator `up` starts
    assert "AAPL" in settings.symbols
    assert settings.queue("validation") == "validation"


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
    ],
)
def test_a_bad_setting_fails_with_its_name(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(env)
