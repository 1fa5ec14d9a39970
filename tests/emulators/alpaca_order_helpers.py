"""Helpers for the Alpaca emulator order tests: a market order request, waiting for an order to settle."""

from __future__ import annotations

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    OrderSide,
    OrderStatus,
    TimeInForce,
)
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    MarketOrderRequest,
)

from tests.waiting import eventually

BUY, SELL, DAY, GTC = OrderSide.BUY, OrderSide.SELL, TimeInForce.DAY, TimeInForce.GTC


def market(
    symbol: str = "AAPL", qty: float = 10, side: OrderSide = BUY, **fields: object
) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=DAY, **fields)


def settled(client: TradingClient, order_id: object, *statuses: OrderStatus) -> Order:
    """Wait until the order reaches one of `statuses` and return it."""
    wanted = statuses or (OrderStatus.FILLED,)
    return eventually(lambda: (o := client.get_order_by_id(order_id)).status in wanted and o, timeout=5)
