"""A moment an operator types: a duration back from now ("30m", "1h", "2d", "1w") or an ISO date or time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_moment(option: str, text: str, now: datetime, *, examples: str) -> datetime:
    """The moment `text` names, as an aware UTC datetime; a naive ISO time is read as UTC.

    Raises ValueError naming `option` (and giving `examples`) for anything else, or a zero duration.
    """
    duration = _DURATION.match(text)
    if duration is not None:
        amount, unit = int(duration.group(1)), duration.group(2).lower()
        if amount == 0:
            raise ValueError(f"{option} needs a duration above zero, got {text!r}")
        try:
            return now - timedelta(**{_UNITS[unit]: amount})
        except OverflowError:
            raise ValueError(f"{option} {text!r} reaches back before year 1") from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} takes {examples}; got {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
