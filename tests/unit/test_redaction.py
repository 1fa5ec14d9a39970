"""redact(): configured secrets and credential-shaped strings never survive; ordinary text does."""

from __future__ import annotations

import pytest

from telemetry.redaction import MASK, redact, secrets_of
from workers.settings import Settings

SETTINGS = Settings(
    alpaca_paper_api_key="PKTESTKEY0123456789AB",
    alpaca_paper_secret_key="alpaca-secret-9f8e7d6c5b4a",
    slack_bot_token="xoxb-1111-2222-planted-bot-token",
    slack_signing_secret="8f14e45fceea167a5a36dedd4bea2543",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY",
)


@pytest.mark.parametrize("secret", secrets_of(SETTINGS))
def test_each_configured_secret_is_masked_wherever_it_appears(secret: str) -> None:
    text = f"start {secret} middle({secret})end{secret}"
    redacted = redact(text, secrets_of(SETTINGS))
    assert secret not in redacted
    assert redacted == f"start {MASK} middle({MASK})end{MASK}"


def test_secrets_of_names_the_alpaca_keys_slack_secrets_and_aws_secret() -> None:
    assert set(secrets_of(SETTINGS)) == {
        SETTINGS.alpaca_paper_api_key,
        SETTINGS.alpaca_paper_secret_key,
        SETTINGS.slack_bot_token,
        SETTINGS.slack_signing_secret,
        SETTINGS.aws_secret_access_key,
    }


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("token xoxb-123-456-abcDEF in a message", "xoxb-123-456-abcDEF"),
        ("user token xoxp-9-8-7-zyx", "xoxp-9-8-7-zyx"),
        ("app token xapp-1-A0-123-abc", "xapp-1-A0-123-abc"),
        ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        ("{'Authorization': 'bearer 12345secret'}", "12345secret"),
        ("connecting to amqp://trader:s3cr3t-pw@rabbit:5672/%2F", "s3cr3t-pw"),
    ],
)
def test_credential_shaped_strings_are_masked_without_being_configured(text: str, leaked: str) -> None:
    redacted = redact(text)
    assert leaked not in redacted
    assert MASK in redacted


def test_what_is_not_a_secret_is_left_alone() -> None:
    text = (
        "Trade 5f0c6d3e-2a4b-4c1d-9e8f-0a1b2c3d4e5f executed: buy 10 AAPL at 187.25 via alpaca "
        "on http://127.0.0.1:8765/paper (DynamoDB Local at http://127.0.0.1:8000)"
    )
    assert redact(text, secrets_of(SETTINGS)) == text


def test_a_key_id_shaped_word_is_masked_only_when_it_is_the_configured_key() -> None:
    other = "PKOTHERKEY9876543210ZZ"
    redacted = redact(f"{SETTINGS.alpaca_paper_api_key} and {other}", secrets_of(SETTINGS))
    assert redacted == f"{MASK} and {other}"


def test_a_short_placeholder_value_is_not_treated_as_a_secret() -> None:
    # The default AWS secret "local" would otherwise mask the word everywhere.
    assert redact("DynamoDB Local on localhost", ["local", "Local"]) == "DynamoDB Local on localhost"


def test_a_secret_containing_another_is_masked_whole() -> None:
    assert redact("key=abcdefgh12345678", ["abcdefgh", "abcdefgh12345678"]) == f"key={MASK}"
