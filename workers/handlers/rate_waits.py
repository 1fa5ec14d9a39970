"""A trade the stock broker's rate limit holds back waits in its queue: delayed, never failed, never
simulated (nothing was sent: BrokerBusy's promise). It comes back when a slot of the account's shared
budget should be free; the chain's RateLimitNotices middleware tells its trader once it has waited long.
"""

from __future__ import annotations

from brokers.port import BrokerBusy, RateLimited
from messages.trade import TradeRequest
from workers.handlers.errors import Deferred

# The reason a TradeHeld carries when its trade waits for the account's Alpaca budget (the trade is
# recorded; the notifications stage tells it even so, and the notice says why it waits).
QUEUED_REASON = "queued behind Alpaca's rate limit: it goes on by itself as the account's requests free up"

# Alpaca's own 429 without a reset, or an adapter busy for another reason: look again after this.
DEFAULT_WAIT_MS = 1_000
MIN_WAIT_MS = 50


class QueuedBehindRateLimit(Deferred):
    """Not now: the account's request budget is spent. Costs no retry; the trade is not touched."""

    def __init__(self, trade: TradeRequest, *, retry_after_ms: int, reason: str) -> None:
        super().__init__(
            f"trade {trade.trade_id} waits {retry_after_ms} ms behind Alpaca's rate limit: {reason}",
            retry_after_ms=retry_after_ms,
        )
        self.trade = trade
        self.reason = reason


def queued(trade: TradeRequest, busy: BrokerBusy) -> QueuedBehindRateLimit:
    """The wait a refusal asks for: the budget's own estimate, else a short default."""
    wait_ms = int(busy.retry_after_s * 1000) if isinstance(busy, RateLimited) else DEFAULT_WAIT_MS
    return QueuedBehindRateLimit(trade, retry_after_ms=max(MIN_WAIT_MS, wait_ms), reason=str(busy))


def waiting(trade: TradeRequest, wait_s: float) -> QueuedBehindRateLimit:
    """A trade whose order would wait `wait_s` for a slot: it waits in its queue instead."""
    return QueuedBehindRateLimit(
        trade,
        retry_after_ms=max(MIN_WAIT_MS, int(wait_s * 1000)),
        reason="the account's Alpaca requests are spent until then",
    )


def is_rate_limit_hold(reason: str) -> bool:
    """Whether a TradeHeld's reason is the rate limit's (its trade is recorded and waits at execution)."""
    return reason == QUEUED_REASON
