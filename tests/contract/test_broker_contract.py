"""One StockBroker contract, run against SimulatedBroker and AlpacaPaperBroker on the Alpaca emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from brokers.port import StockBroker
from brokers.simulated import SimulatedBroker
from messages.trade import Execution, OrderPending
from tests.fixtures_alpaca import make_broker
from tests.unit.fakes import trade


@pytest.fixture(params=["simulation", "alpaca"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[StockBroker]:
    stock_broker: StockBroker
    if request.param == "simulation":
        stock_broker = SimulatedBroker(delay_ms=1)
    else:
        stock_broker = make_broker(request.getfixturevalue("alpaca_emulator"))
    yield stock_broker
    await stock_broker.close()


async def test_a_market_order_fills_whole_and_says_which_method_ran(broker: StockBroker) -> None:
    for side in ("buy", "sell"):
        result = await broker.execute(trade(side=side, quantity=Decimal(7)))
        assert isinstance(result, Execution)
        assert result.execution_method == broker.name
        assert result.filled_quantity == Decimal(7)
        assert sum(f.quantity for f in result.fills) == result.filled_quantity
        assert result.execution_price > 0 and result.reference_price > 0
        assert result.execution_time_ms >= 0 and result.market_impact_bps >= 0
        for figure in (result.execution_price, result.slippage_bps, result.market_impact_bps):
            assert isinstance(figure, Decimal)  # money and figures are Decimal, never float


async def test_the_same_trade_executed_twice_has_one_outcome(broker: StockBroker) -> None:
    t = trade()
    first, second = await broker.execute(t), await broker.execute(t)
    assert isinstance(first, Execution) and isinstance(second, Execution)
    assert (first.execution_price, first.filled_quantity, first.alpaca_order_id) == (
        second.execution_price,
        second.filled_quantity,
        second.alpaca_order_id,
    )


async def test_a_limit_far_from_the_market_does_not_fill_now(broker: StockBroker) -> None:
    reference = await broker.reference_price("AAPL")
    assert reference is not None and reference > 0
    low = (reference / 2).quantize(Decimal("0.01"))
    result = await broker.execute(trade(order_type="limit", limit_price=low))
    assert not isinstance(result, Execution)


async def test_a_known_symbol_is_tradable_while_the_market_is_open(broker: StockBroker) -> None:
    market = await broker.conditions("AAPL")
    assert market.tradable and market.market_open


async def test_looking_up_a_trade_never_placed_finds_no_order_and_places_none(broker: StockBroker) -> None:
    never_placed = trade()
    found = await broker.resume(never_placed, None)
    assert isinstance(found, OrderPending) and found.state == "unknown" and found.alpaca_order_id is None
    assert found.execution_method == broker.name
    again = await broker.resume(never_placed, None)  # a lookup leaves nothing behind: still no order
    assert isinstance(again, OrderPending) and again.state == "unknown"
