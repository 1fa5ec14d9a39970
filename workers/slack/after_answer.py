"""Work the ingress does after Slack has its answer: journal entries, views.open, App Home.

The ingress answers each request as soon as its listener returns (bolt's `process_before_response`), rather
than letting bolt poll every 10 ms for the ack while the listener runs on: that poll alone put 5 ms, and up
to 10, on every answer. So whatever may follow the answer runs here, as tasks kept referenced until they
end, their failures logged, and waited for when the ingress stops so no journal entry is dropped.

The set is bounded (`max_running`): work past it is dropped and counted, never queued without end, so no
flood can grow the ingress's memory. Refused requests start no work of their own (session.py counts them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger("tradeflow.ingress")

DRAIN_TIMEOUT_S = 10.0
MAX_RUNNING = 1_000


class AfterAnswer:
    """Starts coroutines that follow an answer, and waits for those still running on `drain`."""

    def __init__(self, max_running: int = MAX_RUNNING) -> None:
        self._running: set[asyncio.Task[None]] = set()
        self.max_running = max_running
        self.dropped = 0

    def start(self, work: Coroutine[Any, Any, None], what: str) -> bool:
        """Run `work` after the answer; False when the bound is reached and it was dropped instead."""
        if len(self._running) >= self.max_running:
            work.close()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1_000 == 0:
                logger.error(
                    "%s dropped: %d tasks already follow answers (%d dropped so far)",
                    what,
                    len(self._running),
                    self.dropped,
                )
            return False
        task = asyncio.get_running_loop().create_task(work, name=what)
        self._running.add(task)
        task.add_done_callback(self._ended)
        return True

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s failed after Slack's answer", task.get_name(), exc_info=task.exception())

    @property
    def running(self) -> int:
        return len(self._running)

    async def drain(self, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        """Wait for the work still running; whatever outlasts `timeout_s` is cancelled (and logged)."""
        if not self._running:
            return
        _, late = await asyncio.wait(set(self._running), timeout=timeout_s)
        for task in late:
            logger.warning("%s still running %.0f s after the ingress stopped: cancelled", task, timeout_s)
            task.cancel()
        if late:
            await asyncio.wait(late)
