"""Publishing a trade from Slack inside the 3-second answer, and never twice while a publish is in doubt.

The publish waits for RabbitMQ's confirm (an ack means durable, DESIGN §4.3). Under a resource alarm
RabbitMQ blocks the publishing connection: the confirm may come much later, or never (the connection's
`blocked_connection_timeout` ends it, chain/rabbitmq.py). So the ingress waits `deadline_s` and answers:
- confirmed: "Submitting…";
- failed, or never started (still queued behind blocked publishes, and cancelled): NOT_SUBMITTED, nothing
  was placed;
- still unconfirmed: NOT_CONFIRMED. The publish goes on and may complete later; the trade id is the modal's,
  so the trader's next press of Execute Trade finds it here and waits on the same publish instead of sending
  another, and shows "Submitting…" once it is confirmed. (Were both to reach the chain, every stage is
  idempotent by trade id; this keeps the second from being sent at all.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from messages.events import SubmitTrade

PUBLISH_DEADLINE_S = 2.0  # inside Slack's 3 s, with room for the answer itself
KEEP_S = 900.0  # how long a publish in doubt is remembered: longer than a trader keeps the modal open
MAX_KEPT = 10_000
CLOSE_TIMEOUT_S = 10.0

logger = logging.getLogger("tradeflow.ingress")

NOT_SUBMITTED = (
    "Trade NOT submitted: the trading system could not take it just now, and nothing was placed. "
    "Press Execute Trade again in a moment."
)
NOT_CONFIRMED = (
    "Trade not confirmed yet: the trading system is slow to take it, and it may still go through. "
    "Press Execute Trade again in a moment to see: it will never be placed twice."
)


class Submitted(enum.Enum):
    CONFIRMED = "confirmed"
    FAILED = "failed"  # nothing was published
    UNCONFIRMED = "unconfirmed"  # the publish may still complete


@dataclass
class _InDoubt:
    command: SubmitTrade
    future: concurrent.futures.Future[None]
    since: float = field(default_factory=time.monotonic)


class Submissions:
    """Publishes SubmitTrade commands on a pool of threads, each answered within `deadline_s`."""

    def __init__(
        self,
        publish: Callable[[SubmitTrade], None],
        *,
        deadline_s: float = PUBLISH_DEADLINE_S,
        threads: int = 8,
    ) -> None:
        self.publish = publish
        self.deadline_s = deadline_s
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="publish")
        self._in_doubt: dict[uuid.UUID, _InDoubt] = {}

    async def submit(self, command: SubmitTrade) -> tuple[Submitted, SubmitTrade]:
        """Publish `command` unless its trade's earlier publish is still in doubt; the command that counts.

        Raises what the publish raised when it failed (nothing was published).
        """
        self._forget_old()
        earlier = self._in_doubt.get(command.trade.trade_id)
        if earlier is not None:
            if not earlier.future.done():
                await self._wait(earlier.future)
            if not earlier.future.done():
                return Submitted.UNCONFIRMED, earlier.command
            if earlier.future.exception() is None:
                return Submitted.CONFIRMED, earlier.command  # it went through after all: the same trade
            del self._in_doubt[command.trade.trade_id]  # it failed: nothing was published, send anew
        future = self._pool.submit(self.publish, command)
        await self._wait(future)
        if not future.done():
            if future.cancel():  # never started (every thread waits on RabbitMQ): nothing was sent
                return Submitted.FAILED, command
            self._in_doubt[command.trade.trade_id] = _InDoubt(command, future)
            return Submitted.UNCONFIRMED, command
        future.result()  # raises the publish's error
        return Submitted.CONFIRMED, command

    @property
    def in_doubt(self) -> int:
        """Publishes answered as unconfirmed and still waiting on RabbitMQ."""
        return sum(1 for entry in self._in_doubt.values() if not entry.future.done())

    async def _wait(self, future: concurrent.futures.Future[None]) -> None:
        waiting = asyncio.wrap_future(future)
        # The outcome is read from `future`: the wrapper's is marked read, now or when it ends, so no
        # "exception never retrieved" is logged from a finalizer.
        waiting.add_done_callback(_consume)
        await asyncio.wait({waiting}, timeout=self.deadline_s)  # never cancels the publish itself

    def _forget_old(self) -> None:
        now = time.monotonic()
        settled = [
            trade_id
            for trade_id, entry in self._in_doubt.items()
            if entry.future.done() and (now - entry.since > KEEP_S or len(self._in_doubt) > MAX_KEPT)
        ]
        for trade_id in settled:
            del self._in_doubt[trade_id]

    async def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Cancel the publishes not started, and wait for those under way (the Publisher closes next)."""
        stopping = asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
        try:
            await asyncio.wait_for(stopping, timeout_s)
        except TimeoutError:
            logger.warning("Publishes still waiting on RabbitMQ %.0f s after the ingress stopped", timeout_s)


def _consume(waiting: asyncio.Future[None]) -> None:
    if not waiting.cancelled():
        waiting.exception()
