"""The account's open orders in one paged read (GET /v2/orders?status=open, 500 a page at most): the
sweeper's one question to Alpaca per sweep, instead of one lookup per resting order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest

from brokers.alpaca import AlpacaPaperBroker
from brokers.alpaca_orders import open_orders
from brokers.fallback import FallbackBroker
from brokers.simulated import SimulatedBroker
from emulators.alpaca import AlpacaEmulator
from tests.fixtures_alpaca import make_broker, trading_client


@pytest.fixture
async def alpaca(alpaca_emulator: AlpacaEmulator) -> AsyncIterator[AlpacaPaperBroker]:
    broker = make_broker(alpaca_emulator)
    yield broker
    await broker.close()


def _rest(emulator: AlpacaEmulator, count: int) -> list[str]:
    """`count` GTC buy limits far below the market: they rest."""
    client = trading_client(emulator)
    mid = Decimal(str(emulator.admin.prices("AAPL")["AAPL"]["mid"]))
    ids = [f"rest-{n}" for n in range(count)]
    for client_order_id in ids:
        limit = float((mid * Decimal("0.5")).quantize(Decimal("0.01")))
        client.submit_order(
            LimitOrderRequest(
                symbol="AAPL",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=limit,
                client_order_id=client_order_id,
            )
        )
    return ids


async def test_every_open_order_is_read_page_after_page_and_none_twice(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    resting = _rest(alpaca_emulator, 7)
    alpaca_emulator.admin.clear_requests()

    found = await open_orders(alpaca.trading, alpaca.calls, page_size=3)

    assert sorted(found) == sorted(resting)
    assert alpaca_emulator.admin.request_count("GET", "/v2/orders") <= 4  # 7 in pages of 3, overlapping


async def test_an_order_that_ended_is_no_longer_among_the_open(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    resting = _rest(alpaca_emulator, 2)
    trading_client(alpaca_emulator).cancel_order_by_id(alpaca_emulator.admin.orders(resting[0])[0]["id"])
    fallback = FallbackBroker(alpaca, SimulatedBroker(delay_ms=0))
    assert await fallback.open_orders() == frozenset({resting[1]})
    assert await SimulatedBroker(delay_ms=0).open_orders() is None  # it keeps none: it cannot tell
