"""Orders on the Alpaca emulator through alpaca-py: every type, lookups, cancels, and refusals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    OrderSide,
    OrderStatus,
    OrderType,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)

from tests.emulators.alpaca_order_helpers import market, settled

BUY, SELL, DAY, GTC = OrderSide.BUY, OrderSide.SELL, TimeInForce.DAY, TimeInForce.GTC


def test_each_order_type_is_accepted_and_parses(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    requests = [
        market(client_order_id="m-1"),
        LimitOrderRequest(symbol="AAPL", qty=5, side=BUY, time_in_force=GTC, limit_price=150.25),
        StopOrderRequest(symbol="AAPL", qty=5, side=BUY, time_in_force=DAY, stop_price=250),
        StopLimitOrderRequest(
            symbol="AAPL", qty=5, side=BUY, time_in_force=GTC, stop_price=250, limit_price=251
        ),
    ]

    orders = [alpaca_trading_client.submit_order(request) for request in requests]

    assert [o.type for o in orders] == [
        OrderType.MARKET,
        OrderType.LIMIT,
        OrderType.STOP,
        OrderType.STOP_LIMIT,
    ]
    assert all(isinstance(o, Order) and o.symbol == "AAPL" and o.side is BUY for o in orders)
    assert orders[0].client_order_id == "m-1"
    assert orders[0].status is OrderStatus.PENDING_NEW
    assert orders[1].limit_price == "150.25" and orders[1].time_in_force is GTC
    assert orders[2].stop_price == "250"
    assert (orders[3].stop_price, orders[3].limit_price) == ("250", "251")
    assert settled(alpaca_trading_client, orders[0].id).filled_qty == "10"
    for resting in orders[1:]:
        assert alpaca_trading_client.get_order_by_id(resting.id).status is OrderStatus.NEW


def test_order_found_by_id_by_client_order_id_and_in_lists(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    filled = alpaca_trading_client.submit_order(market(client_order_id="trade-1"))
    resting = alpaca_trading_client.submit_order(
        LimitOrderRequest(
            symbol="MSFT", qty=1, side=BUY, time_in_force=GTC, limit_price=100, client_order_id="trade-2"
        )
    )
    settled(alpaca_trading_client, filled.id)

    assert alpaca_trading_client.get_order_by_id(filled.id).client_order_id == "trade-1"
    assert alpaca_trading_client.get_order_by_client_id("trade-2").id == resting.id

    def listed(**filters: object) -> list[str]:
        return [o.client_order_id for o in alpaca_trading_client.get_orders(GetOrdersRequest(**filters))]

    assert listed() == ["trade-2"]  # open orders by default
    assert listed(status=QueryOrderStatus.CLOSED) == ["trade-1"]
    assert listed(status=QueryOrderStatus.ALL) == ["trade-2", "trade-1"]  # newest first
    assert listed(status=QueryOrderStatus.ALL, direction="asc") == ["trade-1", "trade-2"]
    assert listed(status=QueryOrderStatus.ALL, symbols=["MSFT"]) == ["trade-2"]
    assert listed(status=QueryOrderStatus.ALL, limit=1, direction="asc") == ["trade-1"]
    assert listed(status=QueryOrderStatus.ALL, after=started, side=BUY) == ["trade-2", "trade-1"]
    assert listed(status=QueryOrderStatus.ALL, until=started) == []


def test_unknown_order_is_404(alpaca_trading_client: TradingClient) -> None:
    for lookup in (
        lambda: alpaca_trading_client.get_order_by_id(uuid.uuid4()),
        lambda: alpaca_trading_client.get_order_by_client_id("never-sent"),
        lambda: alpaca_trading_client.cancel_order_by_id(uuid.uuid4()),
    ):
        with pytest.raises(APIError) as raised:
            lookup()
        assert (raised.value.status_code, raised.value.code) == (404, 40410000)
        assert raised.value.message == "order not found"


def test_cancel_is_204_then_422_once_canceled(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    order = alpaca_trading_client.submit_order(
        LimitOrderRequest(symbol="AAPL", qty=5, side=BUY, time_in_force=DAY, limit_price=150)
    )

    assert alpaca_trading_client.cancel_order_by_id(order.id) is None
    canceled = alpaca_trading_client.get_order_by_id(order.id)
    assert canceled.status is OrderStatus.CANCELED and canceled.canceled_at is not None

    with pytest.raises(APIError) as raised:
        alpaca_trading_client.cancel_order_by_id(order.id)
    assert (raised.value.status_code, raised.value.code) == (422, 42210000)
    assert raised.value.message == 'order is already in "canceled" state'


def test_cancel_all_answers_each_open_order(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    resting = [
        alpaca_trading_client.submit_order(
            LimitOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=GTC, limit_price=150)
        )
        for _ in range(2)
    ]

    answers = alpaca_trading_client.cancel_orders()

    assert sorted(str(a.id) for a in answers) == sorted(str(o.id) for o in resting)
    assert {a.status for a in answers} == {200}
    assert alpaca_trading_client.get_orders() == []


def test_reused_client_order_id_is_422_40010001(alpaca_trading_client: TradingClient) -> None:
    alpaca_trading_client.submit_order(market(client_order_id="same-id"))

    with pytest.raises(APIError) as raised:
        alpaca_trading_client.submit_order(market(qty=1, client_order_id="same-id"))

    assert raised.value.status_code == 422
    assert raised.value.code == 40010001
    assert raised.value.message == "client_order_id must be unique"


def test_insufficient_buying_power_is_403_40310000(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    with pytest.raises(APIError) as raised:
        alpaca_trading_client.submit_order(market(qty=10_000))  # $2,000,200 > $1,000,000

    assert raised.value.status_code == 403
    assert raised.value.code == 40310000
    assert raised.value.message == "insufficient buying power"
    assert alpaca_trading_client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL)) == []


def test_invalid_parameters_are_422(alpaca_trading_client: TradingClient, frozen_aapl: Decimal) -> None:
    with pytest.raises(APIError) as sub_penny:
        alpaca_trading_client.submit_order(
            LimitOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=DAY, limit_price=190.123)
        )
    with pytest.raises(APIError) as extended:
        alpaca_trading_client.submit_order(market(extended_hours=True))
    with pytest.raises(APIError) as stop_below:
        alpaca_trading_client.submit_order(
            StopOrderRequest(symbol="AAPL", qty=1, side=SELL, time_in_force=DAY, stop_price=210)
        )

    assert [e.value.status_code for e in (sub_penny, extended, stop_below)] == [422, 422, 422]
    assert "sub-penny increment" in sub_penny.value.message
    assert extended.value.message == "extended hours order must be DAY limit orders"
    assert stop_below.value.message == "stop price must be less than current price"
