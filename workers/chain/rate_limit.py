"""A trade held back by Alpaca's rate limit waits in its queue (dramatiq's delay), and its trader is told.

The execution stage raises QueuedBehindRateLimit (a Deferred: DeadLetters puts the message back, delayed,
costing no retry). This middleware runs before DeadLetters does and keeps, in the message's own options,
when the trade first met the limit; once its wait will have passed `notice_after_ms`, the trader is told,
once, that the trade is queued behind Alpaca's rate limit (a TradeHeld "delayed" at the execution stage).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dramatiq

from messages.events import TradeHeld
from workers.chain.sending import publish
from workers.handlers.rate_waits import QUEUED_REASON, QueuedBehindRateLimit

logger = logging.getLogger("tradeflow.rate_limit")


class RateLimitNotices(dramatiq.Middleware):
    def __init__(self, *, notice_after_ms: int, queue_of: Callable[[str], str]) -> None:
        self.notice_after_ms = notice_after_ms
        self.queue_of = queue_of

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if not isinstance(exception, QueuedBehindRateLimit):
            return
        now_ms = int(time.time() * 1000)
        since_ms = int(message.options.setdefault("rate_limited_since_ms", now_ms))
        waited_by_then = now_ms - since_ms + exception.retry_after_ms
        if message.options.get("rate_limit_told") or waited_by_then < self.notice_after_ms:
            return
        notice = TradeHeld(
            trade=exception.trade,
            state="delayed",
            reason=QUEUED_REASON,
            stage=message.queue_name,
            held_at=datetime.now(UTC),
        )
        try:
            publish(broker, self.queue_of, notice)
        except Exception:  # the trade itself still waits and goes on: the notice is best effort
            logger.exception("Could not queue the rate-limit notice of trade %s", exception.trade.trade_id)
            return
        message.options["rate_limit_told"] = True
        logger.info(
            "Trade %s waits behind Alpaca's rate limit (%d ms so far): its trader is told",
            exception.trade.trade_id,
            now_ms - since_ms,
            extra={"outcome": "queued", "trade_id": str(exception.trade.trade_id)},
        )
