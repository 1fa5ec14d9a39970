"""The market clock: which session of the trading day it is, and when the regular session next opens and
closes.

It follows real time for `timestamp`, but changes session only when told to (admin, a fault) or, with the
`auto_clock` setting, when its own schedule says so: `next_close` passes while open, `next_open` passes
while closed (auto_clock knows the regular session only). Unless told otherwise the schedule is the
regular session's: the next weekday 16:00 and 09:30 New York time (holidays are not modelled). The
sessions themselves (pre, regular, post, closed) are described in sessions.py; `is_open`, as in
Alpaca's /v2/clock, is true in the regular session only.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Literal

from emulators.alpaca.formats import EASTERN, eastern_text, utc_now
from emulators.alpaca.sessions import Session

OPENING_BELL = time(9, 30)
CLOSING_BELL = time(16, 0)

Transition = Literal["open", "close"]


def next_weekday_at(after: datetime, at: time) -> datetime:
    """The first weekday moment at New York wall time `at` strictly after `after`."""
    local = after.astimezone(EASTERN)
    day = local.date()
    while True:
        candidate = datetime.combine(day, at, tzinfo=EASTERN)
        if candidate > local and candidate.weekday() < 5:
            return candidate
        day += timedelta(days=1)


class MarketClock:
    def __init__(self, *, is_open: bool = True) -> None:
        self.session: Session = "regular" if is_open else "closed"
        self.next_open = self.next_close = utc_now()
        if is_open:
            self.set_open()
        else:
            self.set_closed()

    @property
    def is_open(self) -> bool:
        return self.session == "regular"

    @property
    def extended(self) -> bool:
        """Pre-market or after-hours: extended-hours orders trade, others wait for the open."""
        return self.session in ("pre", "post")

    def set_session(self, session: Session) -> None:
        """Enter `session`; the regular schedule moves as an open or a close would move it."""
        if session == "regular":
            self.set_open(next_close=self.next_close if self.next_close > utc_now() else None)
        elif self.session == "regular":
            self.set_closed()
        self.session = session

    def set_open(self, *, next_close: datetime | None = None) -> None:
        self.session = "regular"
        self.next_close = next_close or next_weekday_at(utc_now(), CLOSING_BELL)
        self.next_open = next_weekday_at(self.next_close, OPENING_BELL)

    def set_closed(self, *, next_open: datetime | None = None) -> None:
        self.session = "closed"
        self.next_open = next_open or next_weekday_at(utc_now(), OPENING_BELL)
        self.next_close = next_weekday_at(self.next_open, CLOSING_BELL)

    def reschedule(self, *, next_open: datetime | None, next_close: datetime | None) -> None:
        """Move the next open or close without opening or closing now."""
        if next_open is not None:
            self.next_open = next_open
        if next_close is not None:
            self.next_close = next_close

    def due(self, now: datetime | None = None) -> Transition | None:
        """The transition the schedule asks for at `now`, if any."""
        now = now or utc_now()
        if self.is_open and now >= self.next_close:
            return "close"
        if not self.is_open and now >= self.next_open:
            return "open"
        return None

    def session_close(self) -> datetime:
        """When the current (or, while closed, the next) regular session ends: a day order's expiry."""
        return self.next_close

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": eastern_text(utc_now()),
            "is_open": self.is_open,
            "next_open": eastern_text(self.next_open),
            "next_close": eastern_text(self.next_close),
        }
