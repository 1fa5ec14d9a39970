"""SimulatedBroker: deterministic fills with adverse 1-2 bps slippage, and the order-type rules."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from brokers.costs import adverse_bps, market_impact_bps
from brokers.port import StockBroker
from brokers.price_walk import PriceWalk, starting_price
from brokers.simulated import SimulatedBroker
from messages.trade import Execution, ExecutionError, TradeRequest

NOW = datetime(2024, 1, 2, 15, 30, tzinfo=UTC)
CENT = Decimal("0.01")


def make_trade(symbol: str = "AAPL", side: str = "buy", quantity: str = "100", **prices: Any) -> TradeRequest:
    return TradeRequest(
        trade_id=uuid.uuid4(),
        user_id="U123",
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        quantity=Decimal(quantity),
        submitted_at=NOW,
        **prices,
    )


def make_broker(seed: int = 42, delay_ms: int = 0) -> SimulatedBroker:
    return SimulatedBroker(seed=seed, delay_ms=delay_ms, clock=lambda: NOW)


def next_reference(seed: int, symbol: str, steps: int = 1) -> Decimal:
    """The reference price a fresh broker with `seed` will use for its `steps`-th trade in `symbol`."""
    walk = PriceWalk(seed=seed)
    for _ in range(steps - 1):
        walk.step(symbol)
    return walk.step(symbol)


async def fill(broker: SimulatedBroker, trade: TradeRequest) -> Execution:
    outcome = await broker.execute(trade)
    assert isinstance(outcome, Execution), outcome
    return outcome


async def refusal(broker: SimulatedBroker, trade: TradeRequest) -> ExecutionError:
    outcome = await broker.execute(trade)
    assert isinstance(outcome, ExecutionError), outcome
    return outcome


def test_simulated_broker_satisfies_the_port() -> None:
    broker: StockBroker = make_broker()
    assert broker.name == "simulation"


async def test_same_seed_gives_the_same_fills() -> None:
    def prices(executions: list[Execution]) -> list[tuple[Decimal, ...]]:
        return [
            (e.reference_price, e.execution_price, e.slippage_bps, e.market_impact_bps) for e in executions
        ]

    sequence = [("AAPL", "buy"), ("TSLA", "sell"), ("AAPL", "sell"), ("ZZZZ", "buy")] * 5
    runs = []
    for seed in (7, 7, 8):
        broker = make_broker(seed=seed)
        runs.append(prices([await fill(broker, make_trade(symbol, side)) for symbol, side in sequence]))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


async def test_a_symbols_prices_do_not_depend_on_other_symbols_trades() -> None:
    alone, mixed = make_broker(), make_broker()
    solo = [(await fill(alone, make_trade("NVDA"))).reference_price for _ in range(5)]
    interleaved = []
    for _ in range(5):
        await fill(mixed, make_trade("MSFT"))
        interleaved.append((await fill(mixed, make_trade("NVDA"))).reference_price)
    assert solo == interleaved


@pytest.mark.parametrize("side", ["buy", "sell"])
async def test_market_slippage_is_adverse_and_between_1_and_2_bps(side: str) -> None:
    broker = make_broker(seed=3)
    # "ZQX" has a hash-derived price; "CHEAP" walks from an arbitrary one: cover several price scales.
    for symbol in ("AAPL", "SPY", "INTC", "BAC", "ZQX", "CHEAP"):
        for _ in range(40):
            execution = await fill(broker, make_trade(symbol, side))
            assert Decimal("1.00") <= execution.slippage_bps <= Decimal("2.00")
            if side == "buy":
                assert execution.execution_price > execution.reference_price
            else:
                assert execution.execution_price < execution.reference_price
            assert execution.slippage_bps == adverse_bps(
                side,  # type: ignore[arg-type]
                execution.execution_price,
                execution.reference_price,
            )
            assert execution.execution_price == execution.execution_price.quantize(Decimal("0.0001"))
            assert execution.reference_price == execution.reference_price.quantize(CENT)


async def test_market_order_fills_fully_with_the_seed_fields() -> None:
    broker = make_broker(delay_ms=5)
    trade = make_trade("MSFT", "buy", quantity="12.5")
    execution = await fill(broker, trade)
    assert execution.execution_method == "simulation"
    assert execution.alpaca_order_id is None
    assert execution.filled_quantity == Decimal("12.5")
    assert execution.execution_timestamp == NOW
    assert execution.execution_time_ms > 0
    assert execution.execution_time_ms == execution.execution_time_ms.quantize(Decimal("0.1"))
    assert execution.execution_id.version == 4
    assert execution.reference_price == next_reference(42, "MSFT")
    assert execution.market_impact_bps == market_impact_bps(Decimal("12.5") * execution.reference_price)


async def test_execution_holds_no_floats() -> None:
    execution = await fill(make_broker(), make_trade("GOOGL", "sell"))
    fields = msgspec.structs.asdict(execution)
    assert not [name for name, value in fields.items() if isinstance(value, float)]
    for name in ("execution_price", "filled_quantity", "execution_time_ms", "reference_price"):
        assert isinstance(fields[name], Decimal), name
    for name in ("slippage_bps", "market_impact_bps"):
        assert isinstance(fields[name], Decimal), name
        assert fields[name] == fields[name].quantize(CENT), name
    # On the wire, money stays an exact string.
    assert msgspec.json.decode(msgspec.json.encode(execution))["execution_price"] == str(
        execution.execution_price
    )


def test_market_impact_is_square_root_of_notional() -> None:
    assert market_impact_bps(Decimal(1_000_000)) == Decimal("2.00")
    assert market_impact_bps(Decimal(10_000)) == Decimal("0.20")
    # 100 shares of a $190 stock: a few tenths of a basis point.
    assert market_impact_bps(Decimal(100) * Decimal(190)) == Decimal("0.28")


async def test_buy_limit_at_or_above_reference_fills_no_worse_than_the_limit() -> None:
    reference = next_reference(42, "AAPL")
    at_reference = await fill(
        make_broker(), make_trade("AAPL", "buy", order_type="limit", limit_price=reference)
    )
    assert at_reference.execution_price == reference
    assert at_reference.slippage_bps == Decimal("0.00")

    generous = reference * 2
    above = await fill(make_broker(), make_trade("AAPL", "buy", order_type="limit", limit_price=generous))
    assert reference < above.execution_price <= generous
    assert Decimal(1) <= above.slippage_bps <= Decimal(2)


async def test_sell_limit_at_or_below_reference_fills_no_worse_than_the_limit() -> None:
    reference = next_reference(42, "TSLA")
    trade = make_trade("TSLA", "sell", order_type="limit", limit_price=reference)
    assert (await fill(make_broker(), trade)).execution_price == reference

    low = make_trade("TSLA", "sell", order_type="limit", limit_price=Decimal("1.00"))
    execution = await fill(make_broker(), low)
    assert Decimal("1.00") <= execution.execution_price < reference


@pytest.mark.parametrize(("side", "offset"), [("buy", -CENT), ("sell", CENT)])
async def test_limit_that_is_not_marketable_is_refused(side: str, offset: Decimal) -> None:
    reference = next_reference(42, "META")
    limit = reference + offset
    broker = make_broker()
    error = await refusal(broker, make_trade("META", side, order_type="limit", limit_price=limit))
    assert error.code == "LIMIT_NOT_MARKETABLE"
    assert error.execution_method == "simulation"
    assert f"${limit}" in error.message
    assert side in error.message
    assert f"${reference}" in error.message
    assert error.next_steps
    assert any(f"${reference}" in step for step in error.next_steps)


@pytest.mark.parametrize(
    ("side", "offset"), [("buy", Decimal(0)), ("buy", -CENT), ("sell", Decimal(0)), ("sell", CENT)]
)
async def test_triggered_stop_fills_like_a_market_order(side: str, offset: Decimal) -> None:
    reference = next_reference(42, "NVDA")
    trade = make_trade("NVDA", side, order_type="stop", stop_price=reference + offset)
    execution = await fill(make_broker(), trade)
    assert execution.reference_price == reference
    assert Decimal(1) <= execution.slippage_bps <= Decimal(2)


@pytest.mark.parametrize(("side", "offset"), [("buy", CENT), ("sell", -CENT)])
async def test_untriggered_stop_is_refused(side: str, offset: Decimal) -> None:
    reference = next_reference(42, "NVDA")
    stop = reference + offset
    error = await refusal(make_broker(), make_trade("NVDA", side, order_type="stop", stop_price=stop))
    assert error.code == "STOP_NOT_TRIGGERED"
    assert f"${stop}" in error.message
    assert f"${reference}" in error.message
    assert side in error.message
    assert error.next_steps


async def test_stop_limit_triggers_then_behaves_as_a_limit() -> None:
    reference = next_reference(42, "AMZN")

    def stop_limit(stop: Decimal, limit: Decimal) -> TradeRequest:
        return make_trade("AMZN", "buy", order_type="stop_limit", stop_price=stop, limit_price=limit)

    filled = await fill(make_broker(), stop_limit(reference, reference))
    assert filled.execution_price == reference

    untriggered = await refusal(make_broker(), stop_limit(reference + CENT, reference * 2))
    assert untriggered.code == "STOP_NOT_TRIGGERED"

    not_marketable = await refusal(make_broker(), stop_limit(reference, reference - CENT))
    assert not_marketable.code == "LIMIT_NOT_MARKETABLE"


async def test_a_redelivered_trade_gets_its_first_outcome_and_the_walk_stays() -> None:
    broker = make_broker(delay_ms=1)
    trade = make_trade("QQQ")
    first, second = await asyncio.gather(broker.execute(trade), broker.execute(trade))
    quote_after = broker.quote("QQQ")
    assert first == second
    assert await broker.execute(trade) == first
    assert broker.quote("QQQ") == quote_after == next_reference(42, "QQQ")


async def test_quote_reads_without_moving_the_walk() -> None:
    broker = make_broker()
    assert broker.quote("SPY") == broker.quote("SPY") == starting_price("SPY")
    execution = await fill(broker, make_trade("SPY"))
    assert broker.quote("SPY") == execution.reference_price


def test_unknown_symbols_start_at_a_stable_price_between_10_and_500() -> None:
    for symbol in ("ABCD", "XYZ", "Q", "WXYZ", "BRK.A"):
        price = starting_price(symbol)
        assert Decimal(10) <= price <= Decimal(500)
        assert price == price.quantize(CENT)
        assert price == starting_price(symbol)


async def test_close_is_a_no_op() -> None:
    broker = make_broker()
    await broker.close()
    await fill(broker, make_trade())
