"""Failures that no retry can mend: they send a message straight to its dead-letter queue."""

from __future__ import annotations


class PermanentError(Exception):
    """Retrying cannot help: the message goes straight to `<queue>.XQ` with this reason."""


class UnknownTrade(PermanentError):
    """A message names a trade the store has never recorded."""


class InvariantViolation(PermanentError):
    """A message contradicts what the store holds (e.g. a reused trade id with another order)."""
