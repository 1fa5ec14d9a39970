"""Journal entries whose write met a store outage, written again until the store is back (JournalRetries).

An audit trail must not lose an entry because DynamoDB restarted: an entry whose write raised
StoreUnavailable waits here, with the stamp it was made with, and one task writes the waiting entries again,
oldest first, backing off (0.5 s doubling to 10 s) while the store stays down. An entry is given up, and
logged as lost, only once the store outage budget (TRADEFLOW_STORE_OUTAGE_BUDGET_S) has passed since its
first failure. A write that landed although it raised is no duplicate when written again: entries are put
under `attribute_not_exists` of their key, so the second put is refused and counts as written.

Memory is bounded: past `max_waiting` entries, a failed entry is logged as lost at once. On stop, the
waiting entries get one more try at once and a bounded time to be written (`close`); the rest are logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from messages.records import ActivityEvent
from workers.access.journal import Journal
from workers.store.port import StoreUnavailable

logger = logging.getLogger("tradeflow.ingress.session")

OUTAGE_BUDGET_S = 600.0  # the default of TRADEFLOW_STORE_OUTAGE_BUDGET_S
MAX_WAITING = 10_000
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0


class JournalRetries:
    """Writes again, with backoff, the entries whose write met a store outage; one task, started on need."""

    def __init__(
        self,
        journal: Journal,
        *,
        budget_s: float = OUTAGE_BUDGET_S,
        max_waiting: int = MAX_WAITING,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.journal = journal
        self.budget_s = budget_s
        self.max_waiting = max_waiting
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.clock = clock
        self.sleep = sleep
        self._waiting: deque[tuple[ActivityEvent, float]] = deque()  # each entry, when it first failed
        self._worker: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()  # set by close: the backoff under way ends at once
        self._closed = False
        self.written = 0  # written again after an outage
        self.lost = 0

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def add(self, entry: ActivityEvent) -> None:
        """Write `entry` again later: its write just raised StoreUnavailable."""
        if self._closed or len(self._waiting) >= self.max_waiting:
            why = "the ingress stopped" if self._closed else f"{len(self._waiting)} entries already wait"
            self._lose(entry, f"the store is unavailable and {why}")
            return
        if not self._waiting:
            logger.warning(
                "Session audit entries wait for the store (unavailable): written again for up to %.0f s",
                self.budget_s,
            )
        self._waiting.append((entry, self.clock()))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="session audit retries")

    async def close(self, timeout_s: float) -> None:
        """Try the waiting entries again at once and give them up to `timeout_s`; log the rest as lost."""
        self._closed = True
        self._wake.set()
        worker = self._worker
        if worker is None or worker.done():
            return
        _, late = await asyncio.wait({worker}, timeout=timeout_s)
        if late:
            worker.cancel()
            await asyncio.wait({worker})
            while self._waiting:
                self._lose(
                    self._waiting.popleft()[0],
                    f"the store was still unavailable {timeout_s:.0f} s after stop",
                )

    async def _run(self) -> None:
        backoff, written = self.first_backoff_s, 0
        while self._waiting:
            entry, _ = self._waiting[0]
            try:
                await self.journal.append(entry)  # refused as existing: an earlier try landed, it is written
            except StoreUnavailable:
                self._lose_expired()
                if self._waiting:
                    left = self.budget_s - (self.clock() - self._waiting[0][1])  # the last try at the budget
                    woken = await self._pause(min(backoff, left))
                    backoff = self.first_backoff_s if woken else min(backoff * 2, self.max_backoff_s)
                continue
            except Exception:
                logger.exception(
                    "Session audit entry %s of %s NOT journaled", entry.event_type, _actor(entry)
                )
            else:
                written += 1
                self.written += 1
            self._waiting.popleft()
            backoff = self.first_backoff_s
        if written:
            logger.info("Session audit: the store is back, %d waiting entries journaled", written)

    def _lose_expired(self) -> None:
        """Give up the entries whose budget has passed, the store having been down all along."""
        now = self.clock()
        while self._waiting and now - self._waiting[0][1] >= self.budget_s:
            self._lose(self._waiting.popleft()[0], f"the store was unavailable for {self.budget_s:.0f} s")

    async def _pause(self, seconds: float) -> bool:
        """Back off `seconds`, or less when `close` wakes the task for a try at once: True when woken."""
        sleeping = asyncio.ensure_future(self.sleep(seconds))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeping, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            woken.cancel()
        was_woken = self._wake.is_set()
        self._wake.clear()  # one try at once per `close`, then the backoff again
        return was_woken

    def _lose(self, entry: ActivityEvent, why: str) -> None:
        self.lost += 1
        logger.error(
            "Session audit entry %s of %s (%s, stamped %s) NOT journaled, lost: %s",
            entry.event_type,
            _actor(entry),
            entry.event_id,
            entry.at.isoformat(),
            why,
        )


def _actor(entry: ActivityEvent) -> str:
    return entry.actor or "unknown"
