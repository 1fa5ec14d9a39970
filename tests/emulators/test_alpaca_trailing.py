"""Trailing stop orders on the Alpaca emulator through alpaca-py: the high-water mark, the stop it drags, the
trigger, replacing the trail, and Alpaca's refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, ReplaceOrderRequest, TrailingStopOrderRequest

from emulators.alpaca import AlpacaEmulator
from tests.emulators.alpaca_order_helpers import market, settled
from tests.emulators.test_alpaca_replace import refusal
from tests.emulators.test_alpaca_stream import events_of, trade_updates, until

BUY, SELL, DAY, GTC = OrderSide.BUY, OrderSide.SELL, TimeInForce.DAY, TimeInForce.GTC


def trailing(side: OrderSide = SELL, qty: int = 10, **trail: float) -> TrailingStopOrderRequest:
    return TrailingStopOrderRequest(symbol="AAPL", qty=qty, side=side, time_in_force=GTC, **trail)


def marks(client: TradingClient, order_id: object) -> tuple[str | None, str | None, OrderStatus]:
    order = client.get_order_by_id(order_id)
    return order.hwm, order.stop_price, order.status


async def test_sell_trailing_stop_follows_the_high_and_fires_on_the_way_down(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client, admin = alpaca_trading_client, alpaca_emulator.admin
    settled(client, client.submit_order(market(qty=10)).id)
    async with trade_updates(alpaca_emulator) as received:
        await until(lambda: admin.stream_listeners() == 1)
        order = client.submit_order(trailing(trail_price=5))
        assert (order.type, order.trail_price, order.trail_percent) == (OrderType.TRAILING_STOP, "5", None)
        assert settled(client, order.id, OrderStatus.NEW).hwm == "200"
        assert marks(client, order.id) == ("200", "195", OrderStatus.NEW)

        admin.set_price("AAPL", "210")
        assert marks(client, order.id) == ("210", "205", OrderStatus.NEW)
        admin.set_price("AAPL", "205.50")  # down, but not to the stop: the mark stays at the high
        assert marks(client, order.id) == ("210", "205", OrderStatus.NEW)
        admin.set_price("AAPL", "204.90")  # last trade 204.90 ≤ stop 205
        await until(lambda: "fill" in events_of(received, order.id))

    assert events_of(received, order.id) == ["new", "fill"]
    filled = client.get_order_by_id(order.id)
    assert filled.status is OrderStatus.FILLED
    assert Decimal(filled.filled_avg_price) == Decimal("204.87")  # the bid, as a market order
    assert client.get_all_positions() == []


def test_buy_trailing_percent_follows_the_low(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client, admin = alpaca_trading_client, alpaca_emulator.admin
    order = client.submit_order(trailing(side=BUY, qty=3, trail_percent=2))
    assert order.trail_percent == "2" and order.hwm is None  # the mark starts when it goes to market

    assert settled(client, order.id, OrderStatus.NEW).stop_price == "204"  # 200 × 1.02
    admin.set_price("AAPL", "190")
    assert marks(client, order.id) == ("190", "193.8", OrderStatus.NEW)
    admin.set_price("AAPL", "193.70")
    assert marks(client, order.id) == ("190", "193.8", OrderStatus.NEW)
    admin.set_price("AAPL", "193.85")
    assert Decimal(settled(client, order.id).filled_avg_price) == Decimal("193.87")  # the ask
    assert client.get_open_position("AAPL").qty == "3"


def test_a_trailing_stop_does_not_trigger_while_the_market_is_closed(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client, admin = alpaca_trading_client, alpaca_emulator.admin
    settled(client, client.submit_order(market(qty=2)).id)
    order = client.submit_order(trailing(qty=2, trail_price=1))
    settled(client, order.id, OrderStatus.NEW)

    admin.close_market()
    admin.set_price("AAPL", "150")
    assert marks(client, order.id) == ("200", "199", OrderStatus.NEW)  # gtc: still there, not fired

    admin.open_market()
    assert Decimal(settled(client, order.id).filled_avg_price) == Decimal("149.98")


def test_replacing_the_trail_keeps_its_kind_and_moves_the_stop(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    settled(client, client.submit_order(market(qty=10)).id)
    old = client.submit_order(trailing(trail_price=5))
    settled(client, old.id, OrderStatus.NEW)

    new = client.replace_order_by_id(old.id, ReplaceOrderRequest(trail=2))

    assert str(new.replaces) == str(old.id) and (new.trail_price, new.trail_percent) == ("2", None)
    assert marks(client, new.id) == ("200", "198", OrderStatus.NEW)
    assert client.get_order_by_id(old.id).status is OrderStatus.REPLACED
    limit = client.submit_order(
        LimitOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=GTC, limit_price=150)
    )
    settled(client, limit.id, OrderStatus.NEW)
    assert refusal(lambda: client.replace_order_by_id(limit.id, ReplaceOrderRequest(trail=2))) == (
        422,
        40010001,
        "trail is only for trailing_stop orders",
    )


def test_bad_trailing_stops_are_refused(alpaca_trading_client: TradingClient, frozen_aapl: Decimal) -> None:
    client = alpaca_trading_client

    def post(**changes: Any) -> tuple[int | None, int | None, str]:
        body: dict[str, Any] = {
            "symbol": "AAPL",
            "qty": "1",
            "side": "buy",
            "type": "trailing_stop",
            "time_in_force": "day",
            "trail_price": "2",
        }
        body.update(changes)
        return refusal(lambda: client.post("/orders", {k: v for k, v in body.items() if v is not None}))

    both = (422, 40010001, "exactly one of trail_price or trail_percent is required")
    assert post(trail_percent="1") == both
    assert post(trail_price=None) == both
    assert post(time_in_force="ioc") == (422, 42210000, "trailing_stop orders must be DAY or GTC orders")
    assert post(extended_hours=True) == (422, 42210000, "extended hours order must be DAY limit orders")
    assert post(stop_price="210") == (422, 40010001, "stop_price is not allowed for trailing_stop orders")
    too_far = (422, 40010001, "trail_percent must be less than 100")
    assert post(trail_price=None, trail_percent="100") == too_far
    stop_loss_leg = {"order_class": "bracket", "take_profit": {"limit_price": "210"}}
    assert post(type="market", trail_price=None, stop_loss={"trail_price": "2"}, **stop_loss_leg) == (
        422,
        40010001,
        "bracket orders require stop_loss.stop_price",  # Alpaca has no trailing stop-loss leg
    )
    assert post(type="limit", limit_price="190") == (422, 40010001, "trail is not allowed for limit orders")
