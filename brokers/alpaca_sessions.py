"""Which trading session the market is in, from Alpaca's clock and calendar.

Alpaca's clock says only whether the regular session (09:30-16:00 New York, earlier on a short day) is open.
Its calendar (`GET /v2/calendar`) gives each market day's `open` and `close` and the extended sessions'
bounds, `session_open` and `session_close` ("0400" and "2000"): the pre-market runs from `session_open` to
`open`, the after-hours session from `close` to `session_close`. alpaca-py's `Calendar` model drops the
session fields, so the day is read raw. A day's calendar never changes: it is read once per New York date.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec

NEW_YORK = ZoneInfo("America/New_York")
ExtendedSession = Literal["pre", "post"]


class MarketDay(msgspec.Struct, frozen=True):
    """One market day's four moments, New York time."""

    session_open: datetime
    open: datetime
    close: datetime
    session_close: datetime

    def extended_session(self, now: datetime) -> ExtendedSession | None:
        if self.session_open <= now < self.open:
            return "pre"
        if self.close <= now < self.session_close:
            return "post"
        return None


def market_day(raw: Any) -> MarketDay | None:
    """A raw calendar entry (`date`, `open`, `close`, `session_open`, `session_close`), None if malformed."""
    if not isinstance(raw, dict):
        return None
    try:
        day = date.fromisoformat(str(raw["date"]))
        moments = [_at(day, str(raw[name])) for name in ("session_open", "open", "close", "session_close")]
    except (KeyError, ValueError):
        return None
    return MarketDay(*moments)


def _at(day: date, text: str) -> datetime:
    """ "09:30" (open, close) or "0400" (the session fields) on `day`, New York time."""
    digits = text.replace(":", "")
    if len(digits) != 4 or not digits.isdigit():
        raise ValueError(f"not a time of day: {text!r}")
    return datetime.combine(day, time(int(digits[:2]), int(digits[2:])), tzinfo=NEW_YORK)


class CalendarView:
    """Today's market day as Alpaca's calendar gives it (None on a day the market does not open)."""

    def __init__(self, fetch: Callable[[date], Awaitable[Any]]) -> None:
        self._fetch = fetch  # the raw calendar entries for one date
        self._days: dict[date, MarketDay | None] = {}
        self._lock = asyncio.Lock()

    async def extended_session(self, now: datetime) -> ExtendedSession | None:
        local = now.astimezone(NEW_YORK)
        day = await self._day(local.date())
        return None if day is None else day.extended_session(local)

    async def _day(self, day: date) -> MarketDay | None:
        if day in self._days:
            return self._days[day]
        async with self._lock:
            if day not in self._days:
                entries = await self._fetch(day)
                found = [d for d in map(market_day, entries or []) if d is not None and d.open.date() == day]
                self._days = {day: found[0] if found else None}  # only today's is ever asked again
            return self._days[day]
