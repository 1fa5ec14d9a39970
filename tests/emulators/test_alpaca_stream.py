"""The trade_updates stream through alpaca-py's own TradingStream, run inside the test with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce, TradeEvent
from alpaca.trading.models import TradeUpdate
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from alpaca.trading.stream import TradingStream

from emulators.alpaca import AlpacaEmulator

DEADLINE_S = 10.0


async def until(condition: Callable[[], object], timeout: float = DEADLINE_S) -> None:
    """Poll without blocking the loop the stream runs on."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not met within {timeout}s"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def trade_updates(
    emulator: AlpacaEmulator, secret: str | None = None
) -> AsyncIterator[list[TradeUpdate]]:
    """Run TradingStream's own loop in this test's event loop; stop it cleanly on the way out."""
    stream = TradingStream(
        emulator.key_id, secret or emulator.secret_key, paper=True, url_override=emulator.stream_url
    )
    received: list[TradeUpdate] = []

    async def on_update(update: TradeUpdate) -> None:
        received.append(update)

    stream.subscribe_trade_updates(on_update)
    running = asyncio.create_task(stream._run_forever())
    try:
        yield received
    finally:
        await stream.stop_ws()
        await stream.close()  # ends the pending recv at once instead of at its 5 s poll
        await asyncio.wait_for(running, timeout=DEADLINE_S)


def events_of(received: list[TradeUpdate], order_id: object) -> list[str]:
    return [
        str(u.event.value if isinstance(u.event, TradeEvent) else u.event)
        for u in received
        if u.order.id == order_id
    ]


async def test_stream_delivers_new_partial_fills_and_fill(alpaca_emulator: AlpacaEmulator) -> None:
    admin = alpaca_emulator.admin
    admin.configure(partial_fills=3)
    admin.set_price("AAPL", "200.00", freeze=True)
    client = TradingClient(
        alpaca_emulator.key_id, alpaca_emulator.secret_key, url_override=alpaca_emulator.base_url
    )

    async with trade_updates(alpaca_emulator) as received:
        await until(lambda: admin.stream_listeners() == 1)
        order = client.submit_order(
            MarketOrderRequest(symbol="AAPL", qty=9, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
        )
        await until(lambda: "fill" in events_of(received, order.id))

    assert events_of(received, order.id) == ["new", "partial_fill", "partial_fill", "fill"]
    fills = [u for u in received if u.event in (TradeEvent.PARTIAL_FILL, TradeEvent.FILL)]
    assert [u.qty for u in fills] == [3.0, 3.0, 3.0]
    assert [u.position_qty for u in fills] == [3.0, 6.0, 9.0]
    assert all(u.price == 200.02 and u.execution_id is not None for u in fills)
    assert fills[0].order.status is OrderStatus.PARTIALLY_FILLED
    assert fills[-1].order.status is OrderStatus.FILLED and fills[-1].order.filled_qty == "9"
    assert Decimal(fills[-1].order.filled_avg_price) == Decimal("200.02")
    await until(lambda: admin.stream_listeners() == 0)


async def test_stream_reports_canceled_expired_rejected_and_accepted(alpaca_emulator: AlpacaEmulator) -> None:
    admin = alpaca_emulator.admin
    admin.set_price("MSFT", "400.00", freeze=True)
    client = TradingClient(
        alpaca_emulator.key_id, alpaca_emulator.secret_key, url_override=alpaca_emulator.base_url
    )

    def resting(tif: TimeInForce) -> LimitOrderRequest:
        return LimitOrderRequest(symbol="MSFT", qty=1, side=OrderSide.BUY, time_in_force=tif, limit_price=300)

    async with trade_updates(alpaca_emulator) as received:
        await until(lambda: admin.stream_listeners() == 1)
        canceled = client.submit_order(resting(TimeInForce.GTC))
        client.cancel_order_by_id(canceled.id)
        admin.add_fault("reject")
        rejected = client.submit_order(resting(TimeInForce.GTC))
        expired = client.submit_order(resting(TimeInForce.DAY))
        admin.close_market()
        queued = client.submit_order(resting(TimeInForce.DAY))
        await until(lambda: "rejected" in events_of(received, rejected.id))

    assert events_of(received, canceled.id) == ["new", "pending_cancel", "canceled"]
    assert events_of(received, rejected.id) == ["rejected"]
    assert events_of(received, expired.id) == ["new", "expired"]
    assert events_of(received, queued.id) == ["accepted"]


async def test_stream_with_a_wrong_secret_never_listens(alpaca_emulator: AlpacaEmulator) -> None:
    admin = alpaca_emulator.admin

    async with trade_updates(alpaca_emulator, secret="not-the-secret") as received:
        await asyncio.sleep(0.3)
        assert admin.stream_listeners() == 0

    assert received == []


async def test_stream_reconnects_after_the_server_drops_it(alpaca_emulator: AlpacaEmulator) -> None:
    admin = alpaca_emulator.admin
    client = TradingClient(
        alpaca_emulator.key_id, alpaca_emulator.secret_key, url_override=alpaca_emulator.base_url
    )

    async with trade_updates(alpaca_emulator) as received:
        await until(lambda: admin.stream_listeners() == 1)
        admin.add_fault("drop_stream")
        assert admin.stream_listeners() == 0
        await until(lambda: admin.stream_listeners() == 1)  # alpaca-py's own reconnect, after its backoff
        order = client.submit_order(
            MarketOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
        )
        await until(lambda: "fill" in events_of(received, order.id))
