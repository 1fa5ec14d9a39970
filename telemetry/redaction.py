"""Mask secrets in text bound for a log, an export or an operator's screen.

Two kinds of secret are masked: the values of the secret settings (whatever their shape), and strings
shaped like a credential whatever their value (Slack tokens, `Bearer …`, a password in a URL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

MASK = "***"

# A configured value shorter than this is a placeholder ("local"), not a credential: masking it would
# garble ordinary words in every line ("DynamoDB Local").
MIN_SECRET_LENGTH = 8

_TOKEN_SHAPES = (
    # Slack bot, user, app, refresh and config tokens.
    re.compile(r"\bxox[abeoprs]-[A-Za-z0-9-]+"),
    re.compile(r"\bxapp-[A-Za-z0-9-]+"),
)
_BEARER = re.compile(r"\b(Bearer\s+)[^\s\"',;]+", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s/@]+@", re.IGNORECASE)


class SecretSettings(Protocol):
    """The secret settings `secrets_of` reads; `workers.settings.Settings` has them all."""

    @property
    def alpaca_paper_api_key(self) -> str: ...
    @property
    def alpaca_paper_secret_key(self) -> str: ...
    @property
    def slack_bot_token(self) -> str: ...
    @property
    def slack_signing_secret(self) -> str: ...
    @property
    def aws_secret_access_key(self) -> str: ...


def secrets_of(settings: SecretSettings) -> tuple[str, ...]:
    """Return the configured values that must never be shown: Alpaca keys, Slack tokens, the AWS secret."""
    return (
        settings.alpaca_paper_api_key,
        settings.alpaca_paper_secret_key,
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.aws_secret_access_key,
    )


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return `text` with each secret value, and anything shaped like a credential, replaced by `***`."""
    # Longest first, so a secret that contains another is masked whole.
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for shape in _TOKEN_SHAPES:
        text = shape.sub(MASK, text)
    text = _BEARER.sub(rf"\g<1>{MASK}", text)
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
