"""The alert settings: checked at start with the variable named, and SNS's endpoint as DynamoDB's."""

from __future__ import annotations

import pytest

from workers.alerts.channels import sns_keys
from workers.settings import SettingsError, load_settings


def test_the_defaults_point_at_the_loopback_alert_servers_up_starts() -> None:
    settings = load_settings({})
    assert settings.tradeflow_alerts == "on"
    assert (settings.tradeflow_smtp_host, settings.tradeflow_smtp_port) == ("127.0.0.1", 8025)
    assert settings.aws_endpoint_url_sns == "http://127.0.0.1:8767"
    assert sns_keys(settings) == ("local", "local")  # moto takes the placeholders


def test_an_empty_sns_endpoint_is_aws_and_the_placeholder_keys_are_not_sent() -> None:
    settings = load_settings({"AWS_ENDPOINT_URL_SNS": ""})
    assert settings.aws_endpoint_url_sns is None
    assert sns_keys(settings) == (None, None)  # boto's default chain: a task role, a profile
    keyed = load_settings(
        {"AWS_ENDPOINT_URL_SNS": "", "AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s"}
    )
    assert sns_keys(keyed) == ("AKIA1", "s")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TRADEFLOW_SMTP_USERNAME": "relay-user"}, "TRADEFLOW_SMTP_PASSWORD"),
        ({"TRADEFLOW_SMTP_PORT": "70000"}, "TRADEFLOW_SMTP_PORT"),
        ({"TRADEFLOW_SMTP_FROM": "alerts"}, "TRADEFLOW_SMTP_FROM"),
        ({"TRADEFLOW_ALERTS_TIMEOUT_S": "45"}, "TRADEFLOW_ALERTS_TIMEOUT_S"),
        ({"TRADEFLOW_ALERTS": "maybe"}, "TRADEFLOW_ALERTS"),
    ],
)
def test_a_bad_alert_setting_stops_the_start_naming_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_the_smtp_password_is_a_secret() -> None:
    from telemetry.redaction import redact, secrets_of

    settings = load_settings(
        {"TRADEFLOW_SMTP_USERNAME": "relay", "TRADEFLOW_SMTP_PASSWORD": "relay-pass-9f8e7d"}
    )
    assert "relay-pass-9f8e7d" not in redact("login relay-pass-9f8e7d refused", secrets_of(settings))
