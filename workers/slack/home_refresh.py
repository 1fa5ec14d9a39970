"""A trader's App Home redrawn at most every `interval_s`, not after every notice.

A redraw costs two store queries, the trader's prices and a `views.publish`. The first notice of a quiet
trader redraws at once; the notices that follow within the interval are folded into one redraw at its end,
in the background, so the App Home still ends showing the last trade.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger("tradeflow.slack.home")

MAX_REMEMBERED = 10_000  # traders whose last redraw is kept; older ones are forgotten first


class HomeRefresher:
    def __init__(
        self,
        redraw: Callable[[str], Awaitable[None]],
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redraw = redraw
        self.interval_s = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}

    async def request(self, user_id: str) -> None:
        """Redraw now if the trader's App Home was not redrawn within the interval, else once at its end."""
        if self.interval_s <= 0:
            await self._redraw(user_id)
            return
        if user_id in self._pending:
            return  # the redraw already due will show this notice's trade too
        now, last = self._clock(), self._last.get(user_id)
        if last is None or now - last >= self.interval_s:
            self._remember(user_id, now)
            await self._redraw(user_id)
            return
        self._pending[user_id] = asyncio.get_running_loop().create_task(
            self._later(user_id, last + self.interval_s - now)
        )

    async def _later(self, user_id: str, wait_s: float) -> None:
        try:
            await asyncio.sleep(wait_s)
        finally:
            self._pending.pop(user_id, None)
        self._remember(user_id, self._clock())
        try:
            await self._redraw(user_id)
        except Exception:  # a courtesy, as every redraw is
            logger.warning("App Home of %s not refreshed", user_id, exc_info=True)

    def _remember(self, user_id: str, at: float) -> None:
        self._last.pop(user_id, None)
        self._last[user_id] = at
        while len(self._last) > MAX_REMEMBERED:
            self._last.pop(next(iter(self._last)))

    async def close(self) -> None:
        """Drop the redraws still due (the process is stopping)."""
        pending = list(self._pending.values())
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
