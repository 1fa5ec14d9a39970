"""Extended-hours sessions on the Alpaca emulator through alpaca-py: the clock, which orders trade in the
pre-market and after-hours, which wait for the open, when day orders expire, and /v2/calendar."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.models import Calendar
from alpaca.trading.requests import (
    GetCalendarRequest,
    LimitOrderRequest,
    StopOrderRequest,
    TrailingStopOrderRequest,
)

from emulators.alpaca import AlpacaEmulator
from tests.emulators.alpaca_order_helpers import market, settled

BUY, SELL, DAY, GTC = OrderSide.BUY, OrderSide.SELL, TimeInForce.DAY, TimeInForce.GTC


def limit(
    price: float, *, extended: bool = False, tif: TimeInForce = DAY, side: OrderSide = BUY
) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="AAPL", qty=2, side=side, time_in_force=tif, limit_price=price, extended_hours=extended
    )


def test_the_clock_is_open_in_the_regular_session_only(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    seen = {}
    for session in ("pre", "regular", "post", "closed"):
        assert alpaca_emulator.admin.set_session(session)["session"] == session
        seen[session] = alpaca_trading_client.get_clock().is_open

    assert seen == {"pre": False, "regular": True, "post": False, "closed": False}
    assert alpaca_emulator.admin.clock()["session"] == "closed"


def test_pre_market_trades_extended_hours_limits_and_queues_the_rest(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    alpaca_emulator.admin.set_session("pre")

    crossing = client.submit_order(limit(201, extended=True))
    resting = client.submit_order(limit(150, extended=True))
    queued_market = client.submit_order(market(qty=3))
    queued_limit = client.submit_order(limit(201))

    assert crossing.status is OrderStatus.PENDING_NEW and crossing.extended_hours is True
    assert Decimal(settled(client, crossing.id).filled_avg_price) == Decimal("200.02")  # the ask
    assert settled(client, resting.id, OrderStatus.NEW).filled_qty == "0"
    assert queued_market.status is OrderStatus.ACCEPTED and queued_limit.status is OrderStatus.ACCEPTED
    alpaca_emulator.admin.set_price("AAPL", "199")  # the market moves: only extended orders may trade
    assert client.get_order_by_id(queued_limit.id).status is OrderStatus.ACCEPTED

    alpaca_emulator.admin.set_session("regular")
    assert settled(client, queued_market.id).filled_qty == "3"
    assert settled(client, queued_limit.id).filled_qty == "2"


def test_day_orders_expire_at_the_close_extended_ones_at_the_end_of_after_hours(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client, admin = alpaca_trading_client, alpaca_emulator.admin
    regular = client.submit_order(limit(150))
    extended = client.submit_order(limit(150, extended=True))
    late = client.submit_order(limit(140, extended=True))
    gtc = client.submit_order(limit(150, tif=GTC))
    for order in (regular, extended, late, gtc):
        settled(client, order.id, OrderStatus.NEW)

    admin.set_session("post")
    assert client.get_order_by_id(regular.id).status is OrderStatus.EXPIRED
    assert client.get_order_by_id(extended.id).status is OrderStatus.NEW
    admin.set_price("AAPL", "149")  # ask 149.02 ≤ 150: the extended order trades after hours
    assert Decimal(settled(client, extended.id).filled_avg_price) == Decimal("149.02")

    admin.set_session("closed")
    assert client.get_order_by_id(late.id).status is OrderStatus.EXPIRED
    assert client.get_order_by_id(gtc.id).status is OrderStatus.NEW


def test_a_trailing_stop_waits_through_after_hours(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client, admin = alpaca_trading_client, alpaca_emulator.admin
    settled(client, client.submit_order(market(qty=2)).id)
    order = client.submit_order(
        TrailingStopOrderRequest(symbol="AAPL", qty=2, side=SELL, time_in_force=GTC, trail_price=1)
    )
    settled(client, order.id, OrderStatus.NEW)

    admin.set_session("post")
    admin.set_price("AAPL", "180")
    assert client.get_order_by_id(order.id).status is OrderStatus.NEW  # no trigger outside regular hours

    admin.set_session("regular")
    assert Decimal(settled(client, order.id).filled_avg_price) == Decimal("179.98")


def test_extended_hours_is_only_for_day_limit_orders(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    alpaca_emulator.admin.set_session("pre")
    for request in (
        market(extended_hours=True),
        limit(150, extended=True, tif=GTC),
        StopOrderRequest(
            symbol="AAPL", qty=1, side=BUY, time_in_force=DAY, stop_price=250, extended_hours=True
        ),
    ):
        with pytest.raises(APIError) as raised:
            alpaca_trading_client.submit_order(request)
        assert (raised.value.status_code, raised.value.code) == (422, 42210000)
        assert raised.value.message == "extended hours order must be DAY limit orders"


def test_calendar_lists_market_days_with_their_sessions(alpaca_trading_client: TradingClient) -> None:
    days = alpaca_trading_client.get_calendar(
        GetCalendarRequest(start=date(2025, 1, 2), end=date(2025, 1, 6))
    )

    assert all(isinstance(day, Calendar) for day in days)
    assert [day.date for day in days] == [date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 6)]
    assert [(day.open.hour, day.open.minute, day.close.hour) for day in days] == [(9, 30, 16)] * 3
    raw = alpaca_trading_client.get("/calendar", {"start": "2025-01-03", "end": "2025-01-03"})
    assert raw == [
        {
            "date": "2025-01-03",
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": "2025-01-06",
        }
    ]


def test_todays_calendar_agrees_with_the_clock_whatever_session_it_was_set_to(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    """A client that finds the session in the calendar (as tradeflow does) sees the clock's session."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from brokers.alpaca_sessions import market_day

    new_york = ZoneInfo("America/New_York")
    for session in ("pre", "post", "regular", "closed"):
        alpaca_emulator.admin.set_session(session)
        now = datetime.now(new_york)
        today = now.date().isoformat()
        entries = alpaca_trading_client.get("/calendar", {"start": today, "end": today})
        assert isinstance(entries, list)
        if not entries:  # a weekend, closed: no market day today
            assert session == "closed"
            continue
        day = market_day(entries[0])
        assert day is not None and day.session_open <= day.open <= day.close <= day.session_close
        if session == "regular":
            assert day.open <= now < day.close
        else:
            assert day.extended_session(now) == (None if session == "closed" else session)
