"""Work the ingress does after Slack has its answer: journal entries, views.open, App Home.

The ingress answers each request as soon as its listener returns (bolt's `process_before_response`), rather
than letting bolt poll every 10 ms for the ack while the listener runs on: that poll alone put 5 ms, and up
to 10, on every answer. So whatever may follow the answer runs here, as tasks kept referenced until they
end, their failures logged, and waited for when the ingress stops so no journal entry is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger("tradeflow.ingress")

DRAIN_TIMEOUT_S = 10.0


class AfterAnswer:
    """Starts coroutines that follow an answer, and waits for those still running on `drain`."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=what)
        self._running.add(task)
        task.add_done_callback(self._ended)

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
