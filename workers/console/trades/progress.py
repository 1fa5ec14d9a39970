"""A one-line progress bar for long exports, drawn on a terminal only.

The total is not counted up front: that would be a second read of every item (a COUNT Query reads, and
is billed for, each item it counts). Trades arrive oldest first, so the bar shows how much of the window's
time has been read, beside the rows written and the rows per second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

REDRAW_INTERVAL_S = 0.1
BAR_WIDTH = 30
_CLEAR_TO_END = "\x1b[K"


class WindowProgress:
    """Draws `[#####-----]  48% of the window · 12,345 trades · 2,150/s` over itself on `stream`."""

    def __init__(
        self,
        stream: TextIO,
        since: datetime,
        until: datetime,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval_s: float = REDRAW_INTERVAL_S,
    ) -> None:
        self._stream = stream
        self._since = since
        self._span_s = (until - since).total_seconds()
        self._clock = clock
        self._interval_s = interval_s
        self._started = clock()
        self._drawn_at: float | None = None
        self._rows = 0
        self._fraction = 0.0

    @classmethod
    def on_terminal(cls, stream: TextIO, since: datetime, until: datetime) -> WindowProgress | None:
        """A bar on `stream` when it is a terminal; None when it is a file or a pipe (nothing is drawn)."""
        isatty = getattr(stream, "isatty", None)
        return cls(stream, since, until) if isatty is not None and isatty() else None

    def advance(self, submitted_at: datetime) -> None:
        """Count one row, the trade submitted at `submitted_at`; redraw at most every `interval_s`."""
        self._rows += 1
        if self._span_s > 0:
            elapsed = (submitted_at - self._since).total_seconds() / self._span_s
            self._fraction = min(max(elapsed, self._fraction), 1.0)
        now = self._clock()
        if self._drawn_at is None or now - self._drawn_at >= self._interval_s:
            self._draw(now)

    def finish(self) -> None:
        """Draw the whole window as read and end the line."""
        self._fraction = 1.0
        self._draw(self._clock())
        self._stream.write("\n")
        self._stream.flush()

    def line(self, now: float) -> str:
        """The bar as text, without the carriage return that redraws it."""
        filled = round(self._fraction * BAR_WIDTH)
        seconds = now - self._started
        rate = f"{self._rows / seconds:,.0f}/s" if seconds > 0 else "-/s"
        return (
            f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {self._fraction:4.0%} of the window"
            f" · {self._rows:,} trades · {rate}"
        )

    def _draw(self, now: float) -> None:
        self._drawn_at = now
        self._stream.write(f"\r{self.line(now)}{_CLEAR_TO_END}")
        self._stream.flush()
