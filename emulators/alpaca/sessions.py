"""The sessions of a trading day, which orders trade in each, and the `/v2/calendar` days that list them.

What Alpaca documents ("Placing Orders" › Extended Hours Trading, Orders Submitted Outside of Eligible
Trading Hours, Time in Force; docs.alpaca.markets/docs/orders-at-alpaca):
- Pre-market 04:00–09:30 ET and after-hours 16:00–20:00 ET, Monday to Friday; the regular session
  09:30–16:00 ET. (Alpaca has since added an overnight session, 20:00–04:00, for 24/5 accounts; the
  emulator does not model it: from 20:00 to 04:00 it is closed.)
- An order is eligible for extended hours with `extended_hours=true`, and only a `limit` order with
  time_in_force `day` may be (the docs' "Extended Hours orders" table: DAY limit only, GTC no); anything
  else with it is refused (validation.py).
- "Orders not eligible for extended hours submitted after 4:00pm ET will be queued up for release the
  next trading day": outside the regular session every other order waits `accepted` for the open.
- A day order "is only valid during Regular Trading Hours … if unfilled after the closing auction, it is
  automatically canceled … However, if marked as eligible for extended hours, the order can also execute
  during supported extended hours": the emulator expires a resting day order at the regular close, and an
  extended-hours day order at the end of the after-hours session (or at the regular close when the market
  goes straight to closed). Trailing stops "will not trigger outside of the regular market hours".
- `/v2/clock`'s `is_open` is true only in the regular session.
- `GET /v2/calendar?start=&end=` (alpaca-py's get_calendar): one object per market day with `date`,
  `open` "09:30", `close` "16:00", `session_open` "0400", `session_close` "2000" (the extended day, as
  real responses carry them; Alpaca's OpenAPI example shows the older "0700"/"1900") and
  `settlement_date` (T+1: the next market day), as recorded from Alpaca (offsite-ryan/m3-trader
  calendar.js). Holidays and early closes are not modelled: every weekday is a market day. Without
  `start`/`end` Alpaca lists 1970–2029; the emulator lists the next 30 days (its choice, to stay small).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

Session = Literal["pre", "regular", "post", "closed"]
SESSIONS: tuple[Session, ...] = ("pre", "regular", "post", "closed")
DEFAULT_CALENDAR_DAYS = 30
DAY_ORDERS = frozenset({"day", "opg", "cls", "ioc", "fok"})


def trades_in(session: Session, extended_hours: bool) -> bool:
    """Whether an order may be at market in `session`."""
    return session == "regular" or (extended_hours and session in ("pre", "post"))


def expires_on_leaving(old: Session, new: Session, time_in_force: str, extended_hours: bool) -> bool:
    """Whether a resting order of this kind expires as the market goes from `old` to `new`."""
    if time_in_force not in DAY_ORDERS or new == "regular":
        return False
    if old == "regular":
        return not extended_hours or new != "post"
    return old == "post" and extended_hours


def market_days(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def calendar(
    start: date | None, end: date | None, now: datetime, session: Session | None = None
) -> list[dict[str, Any]]:
    """The market days from `start` to `end`; with `session`, today's (`now`, New York time) drawn around the
    clock's session (calendar_days.py), today included even on a weekend when the clock is not closed."""
    from emulators.alpaca.calendar_days import REGULAR_DAY, bounds_around, hhmm

    today = now.date()
    first = start or today
    last = end or first + timedelta(days=DEFAULT_CALENDAR_DAYS)
    days = market_days(first, last)
    if session not in (None, "closed") and first <= today <= last and today not in days:
        days = sorted([*days, today])
    entries = []
    for day in days:
        bounds = bounds_around(session, now) if session is not None and day == today else REGULAR_DAY
        session_open, open_, close, session_close = bounds
        entries.append(
            {
                "date": day.isoformat(),
                "open": hhmm(open_, colon=True),
                "close": hhmm(close, colon=True),
                "session_open": hhmm(session_open, colon=False),
                "session_close": hhmm(session_close, colon=False),
                "settlement_date": _next_market_day(day).isoformat(),
            }
        )
    return entries


def _next_market_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
