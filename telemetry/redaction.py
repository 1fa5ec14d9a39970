"""Mask secrets in text bound for a log, an export or an operator's screen.

Two kinds of secret are masked: the values of the secret settings (whatever their shape), and strings
shaped like a credential whatever their value (Slack tokens, `Bearer …`, a password in a URL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, Protocol

MASK = "***"

# A configured value shorter than this is a placeholder ("local"), not a credential: masking it would
# garble ordinary words in every line ("DynamoDB Local").
MIN_SECRET_LENGTH = 8

# Credential shapes, whatever their value: Slack bot, user, app, refresh and config tokens; the token of
# an Authorization header; the password of a URL. A named group keeps what precedes the secret.
_SHAPES = re.compile(
    r"\bxox[abeoprs]-[A-Za-z0-9-]+"
    r"|\bxapp-[A-Za-z0-9-]+"
    r"|(?P<bearer>(?i:\bBearer\s+))[^\s\"',;]+"
    r"|(?P<userinfo>(?i:\b[a-z][a-z0-9+.-]*://[^\s:/@]*:))[^\s/@]+(?=@)"
)
# Each shape contains one of these (lower-cased): text with none is spared the regular expression.
_HINTS = ("xox", "xapp-", "bearer", "://")


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
    @property
    def alpaca_other_accounts(self) -> Sequence[Any]: ...  # each with api_key and secret_key
    @property
    def tradeflow_smtp_password(self) -> str | None: ...


def secrets_of(settings: SecretSettings) -> tuple[str, ...]:
    """Return the configured values that must never be shown: Alpaca keys, Slack tokens, the AWS secret,
    the SMTP relay's password."""
    others = tuple(
        key for account in settings.alpaca_other_accounts for key in (account.api_key, account.secret_key)
    )
    if settings.tradeflow_smtp_password:
        others += (settings.tradeflow_smtp_password,)
    return (
        settings.alpaca_paper_api_key,
        settings.alpaca_paper_secret_key,
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.aws_secret_access_key,
        *others,
    )


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return `text` with each secret value, and anything shaped like a credential, replaced by `***`."""
    for value in _masked_values(tuple(secrets)):
        if value in text:
            text = text.replace(value, MASK)
    lowered = text.lower()
    if any(hint in lowered for hint in _HINTS):
        text = _SHAPES.sub(_mask, text)
    return text


@lru_cache(maxsize=64)
def _masked_values(secrets: tuple[str, ...]) -> tuple[str, ...]:
    # Longest first, so a secret that contains another is masked whole.
    return tuple(sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True))


def _mask(match: re.Match[str]) -> str:
    return (match.group("bearer") or match.group("userinfo") or "") + MASK
