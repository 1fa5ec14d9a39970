"""SimulatedBroker: the labelled simulation that executes trades when Alpaca is off or unavailable."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from brokers.costs import BPS_PER_UNIT, MS_QUANTUM, adverse_bps, market_impact_bps
from brokers.port import BrokerUnavailable, CancelAnswer, MarketConditions, ReplaceAnswer
from brokers.price_walk import PriceWalk, stable_hash
from messages.trade import Execution, ExecutionError, Fill, OrderPending, TradeRequest
from messages.types import NEEDS_LIMIT_PRICE, NEEDS_STOP_PRICE, Side

NINE_PLACES = Decimal("0.000000001")
PRICE_TICK = Decimal("0.0001")

# The seed's "realistic slippage (1-2 basis points)", always against the trader.
MIN_SLIPPAGE_BPS = Decimal(1)
MAX_SLIPPAGE_BPS = Decimal(2)

# How many trades' outcomes are kept to answer a redelivered trade with the same outcome.
REMEMBERED_TRADES = 10_000

SIMULATION_NEXT_STEPS = "This was a simulated execution; no order was sent to Alpaca"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SimulatedBroker:
    """A StockBroker that fills against a seeded random walk, with adverse slippage and a short delay.

    Market orders fill fully at the reference price moved 1-2 bps against the trader; execution prices
    are quantized to 0.0001 (never cents: a 1 bp move on a $10 stock is $0.001). Limit, stop and
    stop-limit orders fill only when marketable or triggered at the reference price, else they return an
    ExecutionError. A trade id already seen gets its first outcome back, and the walk does not move.
    """

    name = "simulation"

    def __init__(
        self,
        *,
        seed: int = 42,
        delay_ms: int = 25,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if delay_ms < 0:
            raise ValueError(f"delay_ms must be 0 or more, got {delay_ms}")
        self.seed = seed
        self.delay_ms = delay_ms
        self._clock = clock or _utc_now
        self._walk = PriceWalk(seed=seed)
        self._slippage_rngs: dict[str, random.Random] = {}
        self._outcomes: OrderedDict[uuid.UUID, asyncio.Future[Execution | ExecutionError]] = OrderedDict()

    def quote(self, symbol: str) -> Decimal:
        """Return the symbol's current reference price without moving the walk."""
        return self._walk.current(symbol)

    async def execute(
        self, trade: TradeRequest, *, first_attempt: bool = True
    ) -> Execution | ExecutionError | OrderPending:
        """Execute the trade against the simulated market and return its fill, or why it did not fill.

        A later attempt (an earlier one died, maybe in a worker that had Alpaca enabled and sent the order
        there) is not simulated: unless this simulation ran the first attempt itself, the trade is left
        `unknown` for Alpaca to settle (DESIGN §4, invariant 4).
        """
        outcome = self._outcomes.get(trade.trade_id)
        if outcome is None and not first_attempt:
            return OrderPending(
                state="unknown",
                execution_method="alpaca",
                reason=(
                    "an earlier attempt may have sent this trade's order to Alpaca, which this worker "
                    "cannot ask (Alpaca is off here): it is settled at Alpaca, never simulated"
                ),
            )
        if outcome is None:
            outcome = asyncio.ensure_future(self._execute_once(trade))
            outcome.add_done_callback(lambda done: self._forget_fault(trade.trade_id, done))
            self._outcomes[trade.trade_id] = outcome
            while len(self._outcomes) > REMEMBERED_TRADES:
                self._outcomes.popitem(last=False)
        # Shielded so a cancelled caller does not cancel the answer a redelivery will be given.
        return await asyncio.shield(outcome)

    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> OrderPending:
        """Looked up by client order id, the simulation finds no order: it keeps none.

        A simulated execution exists only once the execution stage recorded it, so a trade still pending
        was never executed here. An order id is another stock broker's order, which only it can settle.
        """
        if broker_order_id is None:
            return OrderPending(
                state="unknown", execution_method="simulation", reason="the simulation keeps no orders"
            )
        raise BrokerUnavailable(
            f"trade {trade.trade_id} has an order at the stock broker ({broker_order_id}), "
            "but only the simulation is configured: enable Alpaca to settle it"
        )

    async def cancel(self, trade: TradeRequest, broker_order_id: str | None) -> CancelAnswer:
        """The simulation decides at once and keeps no orders: nothing rests here to cancel. An order id is
        another stock broker's order, which only it can cancel."""
        if broker_order_id is None:
            return "not_found"
        raise BrokerUnavailable(
            f"trade {trade.trade_id} has an order at the stock broker ({broker_order_id}), "
            "but only the simulation is configured: enable Alpaca to cancel it"
        )

    async def replace(
        self, trade: TradeRequest, broker_order_id: str | None, replacement: TradeRequest
    ) -> ReplaceAnswer:
        """Nothing rests in the simulation, so there is nothing to replace."""
        if broker_order_id is None:
            return ReplaceAnswer(refusal="the simulation keeps no resting orders")
        raise BrokerUnavailable(
            f"trade {trade.trade_id} has an order at the stock broker ({broker_order_id}), "
            "but only the simulation is configured: enable Alpaca to modify it"
        )

    async def conditions(self, symbol: str) -> MarketConditions:
        """The simulation trades every symbol, around the clock, with no buying-power limit."""
        return MarketConditions(tradable=True, market_open=True, source=self.name)

    async def reference_price(self, symbol: str) -> Decimal | None:
        return self.quote(symbol)

    async def admission(self, trade: TradeRequest) -> float:
        """The simulation has no rate limit."""
        return 0.0

    async def account_positions(self) -> dict[str, Decimal] | None:
        """The simulation keeps no account: nothing to reconcile with."""
        return None

    async def open_orders(self) -> frozenset[str] | None:
        """The simulation keeps no orders, so it cannot say which of Alpaca's are open."""
        return None

    async def close(self) -> None:
        """Release nothing: the simulation holds no connections."""

    def _forget_fault(self, trade_id: uuid.UUID, done: asyncio.Future[Execution | ExecutionError]) -> None:
        # A fault is not an outcome: the next delivery of the trade must try again.
        if (done.cancelled() or done.exception() is not None) and self._outcomes.get(trade_id) is done:
            del self._outcomes[trade_id]

    async def _execute_once(self, trade: TradeRequest) -> Execution | ExecutionError:
        started = time.perf_counter_ns()
        reference = self._walk.step(trade.symbol)
        await asyncio.sleep(self.delay_ms / 1000)
        refusal = self._refusal(trade, reference)
        if refusal is not None:
            return refusal
        price = self._slipped_price(trade.symbol, trade.side, reference)
        if trade.limit_price is not None:
            price = _no_worse_than_limit(trade.side, price, trade.limit_price)
        elapsed_ms = Decimal(time.perf_counter_ns() - started) / Decimal(1_000_000)
        filled_at = self._clock()
        quantity = _shares(trade, price)
        return Execution(
            execution_id=uuid.uuid4(),
            execution_method="simulation",
            execution_price=price,
            filled_quantity=quantity,
            execution_timestamp=filled_at,
            execution_time_ms=elapsed_ms.quantize(MS_QUANTUM),
            reference_price=reference,
            slippage_bps=adverse_bps(trade.side, price, reference),
            market_impact_bps=market_impact_bps(quantity * reference),
            alpaca_order_id=None,
            fills=(Fill(quantity=quantity, price=price, timestamp=filled_at),),
        )

    def _refusal(self, trade: TradeRequest, reference: Decimal) -> ExecutionError | None:
        buying = trade.side == "buy"
        if trade.order_class != "simple":
            return ExecutionError(
                code="EXITS_NEED_ALPACA",
                message=(
                    f"A {trade.order_class} order's exits rest at the stock broker until one of them fills; "
                    "the simulation keeps no resting orders, so it was not traded."
                ),
                next_steps=(
                    f"{SIMULATION_NEXT_STEPS}: place it again once Alpaca is back",
                    "Or trade the entry alone now and place the exits later",
                    f"Reference Trade ID: {trade.trade_id}",
                ),
                execution_method="simulation",
            )
        if trade.order_type == "trailing_stop":
            return ExecutionError(
                code="STOP_NOT_TRIGGERED",
                message=(
                    f"A trailing stop for {trade.symbol} triggers only once the price has moved by its trail "
                    f"from its best level; at submission it is ${reference} and nothing has moved yet."
                ),
                next_steps=(
                    f"{SIMULATION_NEXT_STEPS} and the trailing stop does not rest",
                    "Place it again once Alpaca is back, or use a stop order",
                    f"Reference Trade ID: {trade.trade_id}",
                ),
                execution_method="simulation",
            )
        if trade.order_type in NEEDS_STOP_PRICE:
            stop = trade.stop_price
            assert stop is not None  # TradeRequest refuses a stop order without one
            if not (reference >= stop if buying else reference <= stop):
                direction = "rises to or above" if buying else "falls to or below"
                return ExecutionError(
                    code="STOP_NOT_TRIGGERED",
                    message=(
                        f"The {trade.side} stop at ${stop} for {trade.symbol} was not triggered: it triggers "
                        f"when the price {direction} ${stop}, and the reference price is ${reference}."
                    ),
                    next_steps=(
                        f"Resubmit when {trade.symbol} {direction} ${stop}, or place a market order now",
                        f"{SIMULATION_NEXT_STEPS} and the stop does not rest",
                        f"Reference Trade ID: {trade.trade_id}",
                    ),
                    execution_method="simulation",
                )
        if trade.order_type in NEEDS_LIMIT_PRICE:
            limit = trade.limit_price
            assert limit is not None  # TradeRequest refuses a limit order without one
            if not (limit >= reference if buying else limit <= reference):
                relation = "below" if buying else "above"
                needed = "at or above" if buying else "at or below"
                return ExecutionError(
                    code="LIMIT_NOT_MARKETABLE",
                    message=(
                        f"The {trade.side} limit of ${limit} for {trade.symbol} is {relation} the reference "
                        f"price of ${reference}, so it cannot fill now."
                    ),
                    next_steps=(
                        f"Set a {trade.side} limit {needed} ${reference} to fill now, or use a market order",
                        f"{SIMULATION_NEXT_STEPS} and the limit order does not rest",
                        f"Reference Trade ID: {trade.trade_id}",
                    ),
                    execution_method="simulation",
                )
        return None

    def _slipped_price(self, symbol: str, side: Side, reference: Decimal) -> Decimal:
        rng = self._slippage_rngs.get(symbol)
        if rng is None:
            rng = self._slippage_rngs[symbol] = random.Random(self.seed ^ stable_hash(f"slippage:{symbol}"))
        drawn_bps = Decimal(rng.randint(100, 200)) / 100
        sign = 1 if side == "buy" else -1
        price = (reference * (1 + sign * drawn_bps / BPS_PER_UNIT)).quantize(PRICE_TICK)
        # Rounding to the tick must not push the slippage out of the 1-2 bps band.
        near = reference * (1 + sign * MIN_SLIPPAGE_BPS / BPS_PER_UNIT)
        far = reference * (1 + sign * MAX_SLIPPAGE_BPS / BPS_PER_UNIT)
        if side == "buy":
            lowest, highest = near.quantize(PRICE_TICK, ROUND_CEILING), far.quantize(PRICE_TICK, ROUND_FLOOR)
        else:
            lowest, highest = far.quantize(PRICE_TICK, ROUND_CEILING), near.quantize(PRICE_TICK, ROUND_FLOOR)
        return min(max(price, lowest), highest)


def _shares(trade: TradeRequest, price: Decimal) -> Decimal:
    """The shares a trade buys or sells: its quantity, or its dollar amount at the price (to 9 places, down,
    as Alpaca fills a notional order)."""
    if trade.quantity is not None:
        return trade.quantity
    assert trade.notional is not None  # TradeRequest has one or the other
    return (trade.notional / price).quantize(NINE_PLACES, rounding=ROUND_DOWN)


def _no_worse_than_limit(side: Side, price: Decimal, limit: Decimal) -> Decimal:
    # The limit rounds to the tick in the trader's favour, so the fill never crosses it.
    if side == "buy":
        return min(price, limit.quantize(PRICE_TICK, ROUND_FLOOR))
    return max(price, limit.quantize(PRICE_TICK, ROUND_CEILING))
