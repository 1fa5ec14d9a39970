"""Fills on the Alpaca emulator through alpaca-py: prices, partial fills, resting orders, the clock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    OrderSide,
    OrderStatus,
    PositionSide,
    TimeInForce,
)
from alpaca.trading.models import Position
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    StopOrderRequest,
)

from emulators.alpaca import AlpacaEmulator
from tests.emulators.alpaca_order_helpers import market, settled

BUY, SELL, DAY, GTC = OrderSide.BUY, OrderSide.SELL, TimeInForce.DAY, TimeInForce.GTC


def test_market_buy_fills_at_the_ask_and_moves_cash_and_position(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    order = alpaca_trading_client.submit_order(market(qty=10))
    filled = settled(alpaca_trading_client, order.id)

    assert filled.filled_qty == "10"
    assert Decimal(filled.filled_avg_price) == Decimal("200.02")
    assert filled.filled_at is not None
    account = alpaca_trading_client.get_account()
    assert Decimal(account.cash) == Decimal(500_000) - Decimal("2000.20")
    position = alpaca_trading_client.get_open_position("AAPL")
    assert isinstance(position, Position)
    assert (position.qty, position.side, position.avg_entry_price) == ("10", PositionSide.LONG, "200.02")
    assert [p.symbol for p in alpaca_trading_client.get_all_positions()] == ["AAPL"]

    sale = alpaca_trading_client.submit_order(market(qty=10, side=SELL))
    assert Decimal(settled(alpaca_trading_client, sale.id).filled_avg_price) == Decimal("199.98")
    assert alpaca_trading_client.get_all_positions() == []
    with pytest.raises(APIError) as raised:
        alpaca_trading_client.get_open_position("AAPL")
    assert (raised.value.status_code, raised.value.code) == (404, 40410000)


def test_selling_more_than_held_is_403_insufficient_qty(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    settled(alpaca_trading_client, alpaca_trading_client.submit_order(market(qty=5)).id)

    with pytest.raises(APIError) as raised:
        alpaca_trading_client.submit_order(market(qty=8, side=SELL))

    assert (raised.value.status_code, raised.value.code) == (403, 40310000)
    assert raised.value.message == "insufficient qty available for order (requested: 8, available: 5)"


def test_notional_order_fills_a_fractional_quantity(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    order = alpaca_trading_client.submit_order(
        MarketOrderRequest(symbol="AAPL", notional=1000, side=BUY, time_in_force=DAY)
    )
    filled = settled(alpaca_trading_client, order.id)

    assert order.notional == "1000" and order.qty is None
    assert Decimal(filled.filled_qty) == (Decimal(1000) / Decimal("200.02")).quantize(
        Decimal("1e-9"), "ROUND_DOWN"
    )


def test_three_partial_fills_add_up_at_their_volume_weighted_price(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    alpaca_emulator.admin.configure(partial_fills=3, partial_interval_ms=60, tick_interval_ms=20, step_bps=20)

    order = alpaca_trading_client.submit_order(market(qty=10))
    filled = settled(alpaca_trading_client, order.id)

    executions = alpaca_emulator.admin.executions(str(order.id))
    quantities = [Decimal(e["qty"]) for e in executions]
    assert quantities == [Decimal(3), Decimal(3), Decimal(4)]
    vwap = sum(Decimal(e["qty"]) * Decimal(e["price"]) for e in executions) / sum(quantities)
    assert Decimal(filled.filled_qty) == sum(quantities)
    assert abs(Decimal(filled.filled_avg_price) - vwap) < Decimal("1e-8")


def test_resting_limit_fills_once_the_price_crosses_it(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    order = alpaca_trading_client.submit_order(
        LimitOrderRequest(symbol="AAPL", qty=5, side=BUY, time_in_force=GTC, limit_price=190)
    )
    assert settled(alpaca_trading_client, order.id, OrderStatus.NEW).filled_qty == "0"

    alpaca_emulator.admin.set_price("AAPL", "189.50")  # ask 189.52 ≤ limit 190
    filled = settled(alpaca_trading_client, order.id)

    assert Decimal(filled.filled_avg_price) == Decimal("189.52")


def test_triggered_stop_fills_like_a_market_order(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    order = alpaca_trading_client.submit_order(
        StopOrderRequest(symbol="AAPL", qty=2, side=BUY, time_in_force=DAY, stop_price=205)
    )
    alpaca_emulator.admin.set_price("AAPL", "204")
    assert alpaca_trading_client.get_order_by_id(order.id).status is OrderStatus.NEW

    alpaca_emulator.admin.set_price("AAPL", "206")  # last trade 206 ≥ stop 205
    assert Decimal(settled(alpaca_trading_client, order.id).filled_avg_price) == Decimal("206.03")


def test_day_orders_expire_at_the_close_and_gtc_orders_stay(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    day = alpaca_trading_client.submit_order(
        LimitOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=DAY, limit_price=150)
    )
    gtc = alpaca_trading_client.submit_order(
        LimitOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=GTC, limit_price=150)
    )

    alpaca_emulator.admin.close_market()

    expired = alpaca_trading_client.get_order_by_id(day.id)
    assert expired.status is OrderStatus.EXPIRED and expired.expired_at is not None
    assert alpaca_trading_client.get_order_by_id(gtc.id).status is OrderStatus.NEW


def test_market_order_while_closed_is_queued_until_the_open(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    alpaca_emulator.admin.close_market()

    order = alpaca_trading_client.submit_order(market(qty=3))
    assert order.status is OrderStatus.ACCEPTED
    assert settled(alpaca_trading_client, order.id, OrderStatus.ACCEPTED).filled_qty == "0"

    alpaca_emulator.admin.open_market()
    assert settled(alpaca_trading_client, order.id).filled_qty == "3"
