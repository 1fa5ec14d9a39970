"""One Alpaca request per trade in steady state, at the emulator: the order. The clock, the asset list and
the account are what Alpaca already said; the fill comes from the trade_updates stream; the quote the
validation read serves the execution; the App Home shows the last quote read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from brokers.alpaca import AlpacaPaperBroker
from brokers.alpaca_stream import TradeUpdates
from emulators.alpaca import AlpacaEmulator
from messages.trade import Execution
from tests.fixtures_alpaca import make_broker
from tests.unit.fakes import trade


@pytest.fixture
async def streaming(alpaca_emulator: AlpacaEmulator) -> AsyncIterator[AlpacaPaperBroker]:
    updates = TradeUpdates(
        api_key=alpaca_emulator.key_id,
        secret_key=alpaca_emulator.secret_key,
        stream_url=alpaca_emulator.stream_url,
    )
    broker = make_broker(alpaca_emulator, updates=updates)
    updates.start()
    alpaca_emulator.admin.wait_for_listeners(1)
    yield broker
    await broker.close()


def _lanes(emulator: AlpacaEmulator) -> tuple[dict[str, int], dict[str, int]]:
    counts: dict[str, int] = emulator.admin.requests()["counts"]
    data = {route: n for route, n in counts.items() if " /v2/stocks/" in route}
    return {route: n for route, n in counts.items() if route not in data}, data


async def _validate_and_execute(broker: AlpacaPaperBroker, symbol: str) -> Execution:
    """What validation and execution ask the stock broker for one market trade."""
    placed = trade(symbol=symbol, quantity=Decimal(2))
    market = await broker.conditions(symbol)
    assert market.tradable and market.market_open and market.buying_power
    assert await broker.reference_price(symbol)
    executed = await broker.execute(placed)
    assert isinstance(executed, Execution) and executed.filled_quantity == Decimal(2)
    return executed


async def test_a_market_trade_costs_its_order_and_one_quote_in_steady_state(
    streaming: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    await _validate_and_execute(streaming, "AAPL")  # the first reads: account, clock, asset list
    alpaca_emulator.admin.clear_requests()

    for symbol in ("AAPL", "MSFT", "AAPL", "NVDA", "MSFT"):
        await _validate_and_execute(streaming, symbol)

    trading, data = _lanes(alpaca_emulator)
    assert trading == {"POST /v2/orders": 5}  # no account, clock, asset or order-status reads
    assert sum(data.values()) <= 5  # at most one quote a trade: the validation's serves the execution


async def test_without_the_stream_the_fill_is_polled(alpaca_emulator: AlpacaEmulator) -> None:
    broker = make_broker(alpaca_emulator)
    try:
        await _validate_and_execute(broker, "AAPL")
        alpaca_emulator.admin.clear_requests()
        await _validate_and_execute(broker, "AAPL")
    finally:
        await broker.close()
    trading, _ = _lanes(alpaca_emulator)
    assert trading["POST /v2/orders"] == 1 and trading.get("GET /v2/orders/{order_id}", 0) >= 1


async def test_the_app_home_shows_the_last_quote_read_without_a_request(
    streaming: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    await streaming.reference_price("AAPL")
    alpaca_emulator.admin.clear_requests()
    assert await streaming.display_price("AAPL")
    assert _lanes(alpaca_emulator) == ({}, {})
