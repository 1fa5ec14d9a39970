"""Bracket, OCO and OTO orders on the Alpaca emulator through alpaca-py: the legs, their lifecycle and events,
the nested listing, and Alpaca's refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, OrderType, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrderByIdRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
)

from emulators.alpaca import AlpacaEmulator
from tests.emulators.alpaca_order_helpers import market, settled
from tests.emulators.test_alpaca_replace import refusal
from tests.emulators.test_alpaca_stream import events_of, trade_updates, until
from tests.waiting import eventually

BUY, SELL, DAY, GTC = OrderSide.BUY, OrderSide.SELL, TimeInForce.DAY, TimeInForce.GTC


def bracket(qty: int = 10, take_profit: float = 210, stop: float = 190, **fields: Any) -> MarketOrderRequest:
    """A market buy bracketed by a sell limit at `take_profit` and a sell stop at `stop` (AAPL at $200)."""
    return MarketOrderRequest(
        symbol="AAPL",
        qty=qty,
        side=BUY,
        time_in_force=GTC,
        order_class=OrderClass.BRACKET,
        take_profit=TakeProfitRequest(limit_price=take_profit),
        stop_loss=StopLossRequest(stop_price=stop),
        **fields,
    )


def nested(client: TradingClient, order_id: object) -> Order:
    order = client.get_order_by_id(order_id, GetOrderByIdRequest(nested=True))
    assert isinstance(order, Order)
    return order


def statuses(order: Order) -> list[OrderStatus]:
    return [leg.status for leg in order.legs or []]


def buy_bracket(
    qty: int,
    *,
    tp: float,
    sl: float,
    sl_limit: float | None = None,
    tif: TimeInForce = DAY,
    limit: float = 150,
) -> LimitOrderRequest:
    """A limit buy of AAPL with a take-profit and a stop-loss (a stop-limit with `sl_limit`)."""
    return LimitOrderRequest(
        symbol="AAPL",
        qty=qty,
        side=BUY,
        time_in_force=tif,
        limit_price=limit,
        order_class=OrderClass.BRACKET,
        take_profit=TakeProfitRequest(limit_price=tp),
        stop_loss=StopLossRequest(stop_price=sl, limit_price=sl_limit),
    )


def test_bracket_answers_with_its_held_legs_and_releases_the_take_profit_once_filled(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    order = client.submit_order(bracket(client_order_id="entry-1"))

    assert order.order_class is OrderClass.BRACKET and order.type is OrderType.MARKET
    take_profit, stop_loss = order.legs or []
    assert (take_profit.type, take_profit.side, take_profit.limit_price) == (OrderType.LIMIT, SELL, "210")
    assert (stop_loss.type, stop_loss.side, stop_loss.stop_price) == (OrderType.STOP, SELL, "190")
    assert {leg.status for leg in (take_profit, stop_loss)} == {OrderStatus.HELD}
    assert all(leg.qty == "10" and leg.time_in_force is GTC for leg in (take_profit, stop_loss))
    assert all(leg.order_class is OrderClass.BRACKET for leg in (take_profit, stop_loss))
    assert len({order.client_order_id, take_profit.client_order_id, stop_loss.client_order_id}) == 3

    settled(client, order.id)
    after = eventually(
        lambda: statuses(o := nested(client, order.id)) == [OrderStatus.NEW, OrderStatus.HELD] and o
    )
    assert [leg.id for leg in after.legs or []] == [take_profit.id, stop_loss.id]
    assert client.get_order_by_id(stop_loss.id).status is OrderStatus.HELD  # each leg is an order of its own
    assert client.get_order_by_id(order.id).legs is None  # not nested unless asked
    assert client.get_open_position("AAPL").qty == "10"


def test_listing_shows_legs_as_orders_or_nested_under_their_parent(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    order = client.submit_order(buy_bracket(5, tp=160, sl=140, sl_limit=139.5))
    leg_ids = [leg.id for leg in order.legs or []]

    flat = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert sorted(o.id for o in flat) == sorted([order.id, *leg_ids]) and all(o.legs is None for o in flat)
    assert [o.id for o in client.get_orders()] == [order.id]  # held legs are not "open"
    closed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    assert sorted(o.id for o in closed) == sorted(leg_ids)  # where Alpaca lists them
    (rolled_up,) = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, nested=True))
    assert rolled_up.id == order.id and [leg.id for leg in rolled_up.legs or []] == leg_ids
    stop_limit = (rolled_up.legs or [])[1]
    assert (stop_limit.type, stop_limit.stop_price, stop_limit.limit_price) == (
        OrderType.STOP_LIMIT,
        "140",
        "139.5",
    )


async def test_take_profit_fill_cancels_the_stop_loss_and_closes_the_position(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client, admin = alpaca_trading_client, alpaca_emulator.admin
    async with trade_updates(alpaca_emulator) as received:
        await until(lambda: admin.stream_listeners() == 1)
        order = client.submit_order(bracket())
        take_profit, stop_loss = order.legs or []
        await until(lambda: "new" in events_of(received, take_profit.id))
        admin.set_price("AAPL", "211")  # bid 210.97 ≥ 210
        await until(lambda: "canceled" in events_of(received, stop_loss.id))

    assert events_of(received, order.id) == ["new", "fill"]
    assert events_of(received, take_profit.id) == ["new", "fill"]
    assert events_of(received, stop_loss.id) == ["pending_cancel", "canceled"]
    fill = next(u for u in received if u.order.id == take_profit.id and u.event == "fill")
    assert fill.order.side is SELL and fill.position_qty == 0 and fill.price == 210.97
    assert client.get_all_positions() == []
    cash = Decimal(client.get_account().cash)
    assert cash == Decimal(500_000) - Decimal("2000.20") + Decimal("2109.70")


async def test_stop_hit_sends_the_stop_loss_to_market_and_cancels_the_take_profit(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client, admin = alpaca_trading_client, alpaca_emulator.admin
    async with trade_updates(alpaca_emulator) as received:
        await until(lambda: admin.stream_listeners() == 1)
        order = client.submit_order(bracket())
        take_profit, stop_loss = order.legs or []
        await until(lambda: "new" in events_of(received, take_profit.id))
        admin.set_price("AAPL", "191")
        assert client.get_order_by_id(stop_loss.id).status is OrderStatus.HELD  # not yet at its stop
        admin.set_price("AAPL", "189.90")  # last trade 189.90 ≤ stop 190
        await until(lambda: "fill" in events_of(received, stop_loss.id))

    assert events_of(received, take_profit.id) == ["new", "pending_cancel", "canceled"]
    assert events_of(received, stop_loss.id) == ["new", "fill"]
    filled = client.get_order_by_id(stop_loss.id)
    assert filled.status is OrderStatus.FILLED and Decimal(filled.filled_avg_price) == Decimal("189.88")
    assert client.get_all_positions() == []


async def test_canceling_the_entry_cancels_its_held_legs(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client, admin = alpaca_trading_client, alpaca_emulator.admin
    async with trade_updates(alpaca_emulator) as received:
        await until(lambda: admin.stream_listeners() == 1)
        order = client.submit_order(buy_bracket(3, tp=170, sl=140, tif=GTC))
        await until(lambda: "new" in events_of(received, order.id))
        client.cancel_order_by_id(order.id)
        await until(lambda: all("canceled" in events_of(received, leg.id) for leg in order.legs or []))

    assert events_of(received, order.id) == ["new", "pending_cancel", "canceled"]
    after = nested(client, order.id)
    assert after.status is OrderStatus.CANCELED and statuses(after) == [OrderStatus.CANCELED] * 2
    assert client.get_orders() == []


async def test_oco_exits_a_held_position_one_leg_canceling_the_other(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client, admin = alpaca_trading_client, alpaca_emulator.admin
    settled(client, client.submit_order(market(qty=10)).id)
    async with trade_updates(alpaca_emulator) as received:
        await until(lambda: admin.stream_listeners() == 1)
        oco = client.submit_order(
            LimitOrderRequest(
                symbol="AAPL",
                qty=10,
                side=SELL,
                time_in_force=GTC,
                order_class=OrderClass.OCO,
                take_profit=TakeProfitRequest(limit_price=205),
                stop_loss=StopLossRequest(stop_price=195),
            )
        )
        (stop_loss,) = oco.legs or []
        assert (oco.type, oco.limit_price, oco.order_class) == (OrderType.LIMIT, "205", OrderClass.OCO)
        assert (stop_loss.type, stop_loss.side, stop_loss.status) == (OrderType.STOP, SELL, OrderStatus.HELD)
        admin.set_price("AAPL", "194")
        await until(lambda: "fill" in events_of(received, stop_loss.id))

    assert events_of(received, oco.id) == ["new", "pending_cancel", "canceled"]
    assert events_of(received, stop_loss.id) == ["new", "fill"]
    assert client.get_all_positions() == []


async def test_oto_releases_its_one_exit_when_the_entry_fills(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    order = client.submit_order(
        MarketOrderRequest(
            symbol="AAPL",
            qty=4,
            side=BUY,
            time_in_force=DAY,
            order_class=OrderClass.OTO,
            stop_loss=StopLossRequest(stop_price=190),
        )
    )
    (stop_loss,) = order.legs or []
    assert order.order_class is OrderClass.OTO and stop_loss.status is OrderStatus.HELD

    assert settled(client, stop_loss.id, OrderStatus.NEW).qty == "4"
    alpaca_emulator.admin.set_price("AAPL", "189")
    assert Decimal(settled(client, stop_loss.id).filled_avg_price) == Decimal("188.98")
    assert client.get_all_positions() == []


def test_a_held_stop_loss_can_be_replaced_and_its_replacement_guards_the_position(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    order = client.submit_order(bracket(stop=180))
    take_profit, stop_loss = order.legs or []
    settled(client, take_profit.id, OrderStatus.NEW)

    moved = client.replace_order_by_id(stop_loss.id, ReplaceOrderRequest(stop_price=195))

    assert str(moved.replaces) == str(stop_loss.id) and moved.stop_price == "195"
    assert client.get_order_by_id(stop_loss.id).status is OrderStatus.REPLACED
    assert [leg.id for leg in nested(client, order.id).legs or []] == [take_profit.id, moved.id]
    assert client.get_order_by_id(moved.id).status is OrderStatus.HELD
    alpaca_emulator.admin.set_price("AAPL", "194")
    assert settled(client, moved.id).filled_qty == "10"
    assert client.get_order_by_id(take_profit.id).status is OrderStatus.CANCELED


def test_bad_combinations_are_refused_as_alpaca_refuses_them(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client

    def post(**changes: Any) -> tuple[int | None, int | None, str]:
        body: dict[str, Any] = {
            "symbol": "AAPL",
            "qty": "10",
            "side": "buy",
            "type": "market",
            "time_in_force": "gtc",
            "order_class": "bracket",
            "take_profit": {"limit_price": "210"},
            "stop_loss": {"stop_price": "190"},
        }
        body.update(changes)
        return refusal(lambda: client.post("/orders", {k: v for k, v in body.items() if v is not None}))

    assert post(type="stop", stop_price="205") == (422, 42210000, "bracket orders must be entry orders")
    assert post(take_profit={"limit_price": "200.02"}) == (
        422,
        42210000,
        "take_profit.limit_price must be >= base_price + 0.01",
    )
    assert post(side="sell", take_profit={"limit_price": "199.98"}, stop_loss={"stop_price": "210"}) == (
        422,
        42210000,
        "take_profit.limit_price must be <= base_price - 0.01",
    )
    assert post(stop_loss={"stop_price": "200.02"}) == (
        422,
        42210000,
        "stop_loss.stop_price must be <= base_price - 0.01",
    )
    assert post(stop_loss=None) == (422, 40010001, "bracket orders require stop_loss.stop_price")
    assert post(take_profit=None) == (422, 40010001, "bracket orders require take_profit.limit_price")
    assert post(order_class="oto", take_profit=None, stop_loss=None) == (
        422,
        40010001,
        "oto orders require either take_profit or stop_loss",
    )
    assert post(time_in_force="ioc") == (422, 42210000, "bracket orders must be DAY or GTC orders")
    extended = post(type="limit", limit_price="200", time_in_force="day", extended_hours=True)
    assert extended == (422, 42210000, "bracket orders cannot be extended hours orders")
    notional = post(qty=None, notional="1000", time_in_force="day")
    assert notional == (422, 42210000, "fractional orders cannot be bracket orders")
    assert post(order_class="oco", side="sell") == (422, 42210000, "oco orders must be limit orders")
    assert client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL)) == []
