"""Failures that no retry can mend: they send a message straight to its dead-letter queue."""

from __future__ import annotations


class PermanentError(Exception):
    """Retrying cannot help: the message goes straight to `<queue>.XQ` with this reason."""


class UnknownTrade(PermanentError):
    """A message names a trade the store has never recorded."""


class InvariantViolation(PermanentError):
    """A message contradicts what the store holds (e.g. a reused trade id with another order)."""


class Deferred(Exception):
    """Not now: another delivery holds this work's lease. Come back later; this costs no retry.

    The wait is bounded by the lease: a holder that died lets it run out, and the next try takes over.
    """

    def __init__(self, message: str, *, retry_after_ms: int) -> None:
        super().__init__(message)
        self.retry_after_ms = retry_after_ms
