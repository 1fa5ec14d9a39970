"""Slack request signatures, checked before slack-bolt sees a request: anything not proven is a 401.

slack-bolt answers 500 to a non-numeric timestamp (slack-sdk's verifier calls int() unguarded, DESIGN §9);
this guard answers 401 to every forged, stale, missing or malformed signature, and the body is never acted on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from slack_sdk.signature import Clock, SignatureVerifier

MAX_AGE_S = 300  # Slack's own window: five minutes


class SignatureRefused(Exception):
    """Why a request was refused; never echoes the secret or the expected signature."""


def check_signature(
    secret: str, headers: Mapping[str, str], body: str, *, clock: Callable[[], float] = time.time
) -> None:
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        raise SignatureRefused("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureRefused("X-Slack-Request-Timestamp is not a number")
    if abs(clock() - int(timestamp)) > MAX_AGE_S:
        raise SignatureRefused("X-Slack-Request-Timestamp is more than 5 minutes from now")
    verifier = SignatureVerifier(secret, clock=_Clock(clock))
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise SignatureRefused("X-Slack-Signature does not match the body")


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()
