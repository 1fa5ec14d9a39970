"""Today's calendar day as the clock lives it. Alpaca's calendar and clock always agree, so when the
emulator's session is set by hand (`POST /admin/clock {"session": …}`) at a time of day the regular
schedule gives to another session, today's entry is drawn around that session: `now` falls in the
pre-market, the regular or the after-hours window the clock says it is in (or outside all of them while
closed), each bound moved as little as it needs, to the minute. A client that reads the sessions from the
calendar, as tradeflow does, then sees what the clock says; an unset day keeps the regular times.
"""

from __future__ import annotations

from datetime import datetime

from emulators.alpaca.sessions import Session

REGULAR_DAY = (4 * 60, 9 * 60 + 30, 16 * 60, 20 * 60)  # session_open, open, close, session_close (minutes)
LAST_MINUTE = 23 * 60 + 59


def bounds_around(session: Session, now: datetime) -> tuple[int, int, int, int]:
    """The day's four bounds, in minutes after midnight, so that `now` (New York time) is in `session`."""
    at = now.hour * 60 + now.minute
    bounds = list(REGULAR_DAY)
    # The window `now` must be in (or, closed, the bound to put just beside it): [start, end) indices.
    window = {"pre": (0, 1), "regular": (1, 2), "post": (2, 3)}.get(session)
    if window is not None:
        start, end = window
        bounds[start], bounds[end] = min(bounds[start], at), max(bounds[end], at + 1)
    elif bounds[0] <= at < bounds[3]:  # closed inside the extended day: end it, or start it, here
        start, end = (3, 3) if at >= 12 * 60 else (0, 0)
        bounds[start] = at if start == 3 else at + 1
    else:
        return REGULAR_DAY
    for index in range(start - 1, -1, -1):  # the earlier bounds no later than the ones after them
        bounds[index] = min(bounds[index], bounds[index + 1])
    for index in range(end + 1, 4):  # the later ones no earlier than the ones before them
        bounds[index] = max(bounds[index], bounds[index - 1])
    session_open, open_, close, session_close = (min(max(m, 0), LAST_MINUTE) for m in bounds)
    return session_open, open_, close, session_close


def hhmm(minutes: int, *, colon: bool) -> str:
    hours, mins = divmod(minutes, 60)
    return f"{hours:02d}:{mins:02d}" if colon else f"{hours:02d}{mins:02d}"
