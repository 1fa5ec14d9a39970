"""The StockBroker port: where an order executes. Business outcomes are values, faults are exceptions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

import msgspec

from messages.trade import Execution, ExecutionError, OrderPending, TradeRequest

BrokerResult = Execution | ExecutionError | OrderPending
# A cancel's answer: taken (the order leaves the market; its end comes as the order's own), refused because
# the order already ended (filled, canceled, expired), or no such order at the stock broker.
CancelAnswer = Literal["requested", "not_cancelable", "not_found"]


class ReplaceAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A replace's answer: the new order's id, or why the stock broker would not replace the order."""

    order_id: str | None = None
    refusal: str = ""


class BrokerBusy(Exception):
    """The stock broker answered but refused to act now (rate limited): no order exists; retry later, never
    simulate."""


class RateLimited(BrokerBusy):
    """The account's request budget, shared by every process, is spent (or Alpaca answered 429): the
    request did not leave. Come back after `retry_after_s`; a trade waits in its queue, never simulated."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BrokerUnavailable(Exception):
    """The stock broker could not be reached before any order request left: transient, safe to retry.

    Only raised when no order can exist at the stock broker because of this call; once a request may have
    arrived, an adapter answers OrderPending(state="unknown") instead (DESIGN §4, invariant 4).
    """


# A bracket's exit that waits for its entry or its stop (Alpaca's `held`): the stock broker does not list it
# among its open orders, so the sweeper judges it by its group's other exit (workers/handlers/sweeper.py).
HELD_REASON = "held at Alpaca until its entry fills or its stop triggers"


class MarketConditions(msgspec.Struct, frozen=True, kw_only=True):
    """What validation asks the stock broker before a trade: facts, not verdicts."""

    tradable: bool
    listed: bool = True  # False: the stock broker has no such asset (a typo, or not a US equity it trades)
    fractionable: bool = True
    shortable: bool = True
    market_open: bool = True  # the regular session (09:30-16:00 New York)
    # While the regular session is closed: the pre-market (04:00-09:30) or after-hours (16:00-20:00) session
    # the market is in, from Alpaca's calendar; None between them (and always for the simulation).
    extended_session: Literal["pre", "post"] | None = None
    next_open: datetime | None = None
    buying_power: Decimal | None = None  # None: no limit known (the simulation)
    equity: Decimal | None = None  # the account's equity now, and at the last close (Alpaca's figures)
    last_equity: Decimal | None = None
    source: str = ""

    @property
    def session(self) -> Literal["regular", "pre", "post", "closed"]:
        if self.market_open:
            return "regular"
        return self.extended_session or "closed"


class StockBroker(Protocol):
    """Executes one trade, idempotently by `trade.trade_id` (the client order id)."""

    name: str

    async def execute(self, trade: TradeRequest, *, first_attempt: bool = True) -> BrokerResult:
        """Place the trade's order (or find the one already placed) and wait for its outcome.

        `first_attempt` False: an earlier attempt at this trade may have sent an order (its worker died).
        Such a trade is settled by Alpaca's answer alone and never falls back to the simulation: an
        order found is settled; a refusal is first checked against the order an earlier attempt may have
        placed; while Alpaca cannot be asked the trade stays `unknown` (or the attempt is retried).
        """
        ...

    async def admission(self, trade: TradeRequest) -> float:
        """Seconds before this trade's order could leave under the stock broker's rate limit (0: now).

        Asked before any other work on a trade to place, so a trade that must wait costs nothing else.
        """
        ...

    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> BrokerResult:
        """Settle an order that may already exist; never places one."""
        ...

    async def cancel(self, trade: TradeRequest, broker_order_id: str | None) -> CancelAnswer:
        """Ask the stock broker to cancel the trade's order (found by client order id when its id is not
        known); never places one. BrokerUnavailable or BrokerBusy when it cannot be asked now."""
        ...

    async def replace(
        self, trade: TradeRequest, broker_order_id: str | None, replacement: TradeRequest
    ) -> ReplaceAnswer:
        """Replace the trade's resting order with `replacement`'s terms; the new order's client order id is
        the replacement's trade id. Asked twice, it finds the replacement instead of sending another.
        BrokerUnavailable or BrokerBusy when it cannot be asked (or told) now."""
        ...

    async def conditions(self, symbol: str) -> MarketConditions:
        """Tradability, market hours and buying power for pre-trade checks."""
        ...

    async def open_orders(self) -> frozenset[str] | None:
        """The client order ids of every order open at the stock broker now, read in one go (paged);
        None when it cannot tell (it keeps no orders, or could not be asked)."""
        ...

    async def reference_price(self, symbol: str) -> Decimal | None:
        """A current reference price (the mid quote), for notional checks."""
        ...

    async def account_positions(self) -> dict[str, Decimal] | None:
        """The shares the stock broker's account holds per symbol (negative: short), read now; None when
        it keeps no account (the simulation, or Alpaca not configured). BrokerUnavailable or BrokerBusy
        when it cannot be asked now."""
        ...

    async def close(self) -> None: ...


def broker_for(broker: StockBroker, account: str | None) -> StockBroker:
    """The broker of one account when `broker` trades in several (brokers/accounts.py), else itself."""
    pick = getattr(broker, "for_account", None)
    return broker if pick is None else pick(account)
