"""The richer order kinds (dollar amounts, trailing stops, extended hours): the one set of shape rules, the
pre-trade rules that know the sessions, what goes to Alpaca, and how they read in the trader's notices."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from alpaca.trading.enums import OrderClass, OrderType
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest, TrailingStopOrderRequest

from brokers.alpaca_mapping import order_request
from brokers.alpaca_sessions import CalendarView, market_day
from brokers.port import MarketConditions
from messages.order_shape import OrderShape, shape_problems
from messages.records import KillSwitch, Position, pending_record
from messages.trade import Rejection
from tests.unit.fakes import policy, trade
from workers.handlers.rules import check_trade
from workers.notify.templates import order_terms, size_label

TEN, FIVE_HUNDRED = Decimal(10), Decimal(500)


@pytest.mark.parametrize(
    ("shape", "problems"),
    [
        (OrderShape(quantity=TEN), set()),
        (OrderShape(notional=FIVE_HUNDRED), set()),
        (OrderShape(), {"quantity"}),
        (OrderShape(quantity=TEN, notional=FIVE_HUNDRED), {"quantity"}),
        (OrderShape(notional=FIVE_HUNDRED, order_type="limit", limit_price=TEN), {"notional"}),
        (OrderShape(notional=FIVE_HUNDRED, time_in_force="gtc"), {"time_in_force"}),
        (OrderShape(quantity=TEN, order_type="trailing_stop", trail_percent=Decimal(2)), set()),
        (OrderShape(quantity=TEN, order_type="trailing_stop", trail_price=Decimal("1.5")), set()),
        (OrderShape(quantity=TEN, order_type="trailing_stop"), {"trail"}),
        (
            OrderShape(quantity=TEN, order_type="trailing_stop", trail_price=TEN, trail_percent=TEN),
            {"trail"},
        ),
        (OrderShape(quantity=TEN, order_type="trailing_stop", trail_percent=Decimal(100)), {"trail"}),
        (
            OrderShape(quantity=TEN, order_type="trailing_stop", trail_percent=TEN, time_in_force="ioc"),
            {"time_in_force"},
        ),
        (OrderShape(quantity=TEN, trail_price=TEN), {"trail"}),
        (OrderShape(quantity=TEN, order_type="limit", limit_price=TEN, extended_hours=True), set()),
        (
            OrderShape(
                quantity=TEN, order_type="limit", limit_price=TEN, time_in_force="gtc", extended_hours=True
            ),
            {"time_in_force"},
        ),
        (OrderShape(quantity=TEN, extended_hours=True), {"extended_hours"}),
        (
            OrderShape(quantity=TEN, order_type="trailing_stop", trail_price=TEN, extended_hours=True),
            {"extended_hours"},
        ),
        (
            OrderShape(
                quantity=TEN, order_type="limit", limit_price=TEN, time_in_force="ioc", extended_hours=True
            ),
            {"time_in_force"},
        ),
    ],
)
def test_each_kind_of_order_takes_the_fields_alpaca_takes(shape: OrderShape, problems: set[str]) -> None:
    assert set(shape_problems(shape)) == problems


def test_a_trade_request_refuses_a_shape_alpaca_would_refuse_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"^extended_hours: Extended hours take limit orders only"):
        trade(extended_hours=True)
    with pytest.raises(ValueError, match=r"^notional: A dollar amount needs a market order"):
        trade(quantity=None, notional=FIVE_HUNDRED, order_type="limit", limit_price=TEN)


OFF = KillSwitch(engaged=False)


def refusals(t: Any, market: MarketConditions, **kwargs: Any) -> list[Rejection]:
    args: dict[str, Any] = {"is_trader": True, "kill_switch": OFF, "position": None}
    args.update(kwargs)
    args.setdefault("reference_price", Decimal(100))
    return check_trade(t, policy(), market=market, **args)


def reasons(t: Any, market: MarketConditions, **kwargs: Any) -> list[str]:
    return [r.code for r in refusals(t, market, **kwargs)]


REGULAR = MarketConditions(tradable=True)
AFTER_HOURS = MarketConditions(tradable=True, market_open=False, extended_session="post")
PRE_MARKET = MarketConditions(tradable=True, market_open=False, extended_session="pre")
OVERNIGHT = MarketConditions(tradable=True, market_open=False)
EXTENDED_LIMIT = {"order_type": "limit", "limit_price": Decimal(99), "extended_hours": True}


def test_after_hours_an_extended_hours_limit_goes_and_a_market_order_is_refused_with_the_way_out() -> None:
    assert reasons(trade(**EXTENDED_LIMIT), AFTER_HOURS) == []
    assert reasons(trade(**EXTENDED_LIMIT), PRE_MARKET) == []
    [refusal] = refusals(trade(), AFTER_HOURS, reference_price=TEN)
    assert refusal.code == "EXTENDED_HOURS_ONLY" and "after-hours" in refusal.message
    assert "extended hours on" in refusal.next_step
    assert reasons(trade(order_type="limit", limit_price=Decimal(99)), PRE_MARKET) == ["EXTENDED_HOURS_ONLY"]


def test_overnight_an_extended_hours_limit_may_wait_for_the_next_session_and_a_market_order_may_not() -> None:
    assert reasons(trade(**EXTENDED_LIMIT), OVERNIGHT) == []
    assert reasons(trade(), OVERNIGHT) == ["MARKET_CLOSED"]
    gtc_trail = trade(order_type="trailing_stop", trail_percent=Decimal(2), time_in_force="gtc")
    assert reasons(gtc_trail, OVERNIGHT) == []


def test_a_dollar_amount_is_judged_by_its_own_amount_and_needs_a_fractionable_asset() -> None:
    buy_500 = trade(quantity=None, notional=FIVE_HUNDRED)
    assert reasons(buy_500, REGULAR) == []
    assert reasons(buy_500, MarketConditions(tradable=True, fractionable=False)) == [
        "NOTIONAL_NOT_FRACTIONABLE"
    ]
    assert reasons(buy_500, MarketConditions(tradable=True, buying_power=Decimal(499))) == [
        "INSUFFICIENT_BUYING_POWER"
    ]
    too_much = trade(quantity=None, notional=policy().max_notional + 1)
    [refusal] = refusals(too_much, REGULAR, reference_price=None)
    assert (refusal.code, refusal.field) == ("NOTIONAL_TOO_LARGE", "notional")


def test_selling_dollars_of_more_than_is_held_is_refused_at_the_reference_price() -> None:
    held = Position(user_id="U123", symbol="AAPL", quantity=Decimal(4))
    sell = trade(side="sell", quantity=None, notional=FIVE_HUNDRED)  # 5 shares at $100
    assert reasons(sell, REGULAR, position=held) == ["INSUFFICIENT_POSITION"]
    assert reasons(trade(side="sell", quantity=None, notional=Decimal(300)), REGULAR, position=held) == []


def test_each_kind_goes_to_alpaca_as_alpaca_py_sends_it() -> None:
    dollars = order_request(trade(quantity=None, notional=FIVE_HUNDRED))
    assert isinstance(dollars, MarketOrderRequest) and dollars.notional == 500 and dollars.qty is None
    trail = order_request(
        trade(order_type="trailing_stop", trail_percent=Decimal("2.5"), time_in_force="gtc")
    )
    assert isinstance(trail, TrailingStopOrderRequest) and trail.type == OrderType.TRAILING_STOP
    assert (trail.trail_percent, trail.trail_price) == (2.5, None)
    by_price = order_request(trade(order_type="trailing_stop", trail_price=Decimal("1.25")))
    assert isinstance(by_price, TrailingStopOrderRequest) and by_price.trail_price == 1.25
    extended = order_request(trade(**EXTENDED_LIMIT))
    assert isinstance(extended, LimitOrderRequest) and extended.extended_hours is True
    assert order_request(trade()).extended_hours is None


def test_the_record_keeps_every_term_and_gives_the_request_back() -> None:
    for request in (
        trade(quantity=None, notional=FIVE_HUNDRED),
        trade(order_type="trailing_stop", trail_price=Decimal("1.25"), time_in_force="gtc"),
        trade(**EXTENDED_LIMIT),
    ):
        record = pending_record(request, recorded_at=datetime.now(UTC), expires_at=0)
        assert record.request() == request


def test_the_notices_say_a_dollar_amount_a_trail_and_extended_hours() -> None:
    assert size_label(trade(quantity=None, notional=FIVE_HUNDRED)) == (
        "Amount",
        "$500.00 (fractional shares)",
    )
    assert size_label(trade()) == ("Quantity", "10 shares")
    trail = trade(order_type="trailing_stop", trail_percent=Decimal(2), time_in_force="gtc")
    assert order_terms(trail) == "trailing stop (trail 2%), gtc"
    assert order_terms(trade(**EXTENDED_LIMIT)) == "limit (limit $99), day, extended hours"
    assert order_terms(trade()) is None


def test_the_calendar_gives_the_pre_market_and_after_hours_sessions_in_new_york_time() -> None:
    day = market_day(
        {
            "date": "2026-12-07",
            "open": "09:30",
            "close": "16:00",
            "session_open": "0400",
            "session_close": "2000",
        }
    )
    assert day is not None
    # 2026-12-07 is a Monday; New York is UTC-5 in December.
    assert day.extended_session(datetime(2026, 12, 7, 8, 59, tzinfo=UTC)) is None  # 03:59 New York
    assert day.extended_session(datetime(2026, 12, 7, 9, 0, tzinfo=UTC)) == "pre"  # 04:00: the pre-market
    assert day.extended_session(datetime(2026, 12, 7, 14, 30, tzinfo=UTC)) is None  # 09:30: regular
    assert day.extended_session(datetime(2026, 12, 7, 21, 0, tzinfo=UTC)) == "post"  # 16:00
    assert day.extended_session(datetime(2026, 12, 8, 1, 0, tzinfo=UTC)) is None  # 20:00: closed
    assert market_day({"date": "2026-12-07", "open": "9h30"}) is None


async def test_a_days_calendar_is_read_once_and_a_day_without_a_session_is_none() -> None:
    asked: list[date] = []

    async def fetch(day: date) -> Any:
        asked.append(day)
        if day.weekday() >= 5:
            return []
        iso = day.isoformat()
        return [
            {"date": iso, "open": "09:30", "close": "13:00", "session_open": "0400", "session_close": "2000"}
        ]

    calendar = CalendarView(fetch)
    early_close_afternoon = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # 14:00 New York, a 13:00 close
    assert await calendar.extended_session(early_close_afternoon) == "post"
    assert await calendar.extended_session(early_close_afternoon) == "post"
    assert asked == [date(2026, 11, 27)]
    assert await calendar.extended_session(datetime(2026, 11, 28, 15, 0, tzinfo=UTC)) is None  # Saturday


# --- brackets, OTO and OCO ------------------------------------------------------------------------------

BRACKET = {"take_profit_price": Decimal(220), "stop_loss_price": Decimal(190)}


@pytest.mark.parametrize(
    ("shape", "problems"),
    [
        (OrderShape(quantity=TEN, order_class="bracket", **BRACKET), set()),
        (OrderShape(quantity=TEN, order_class="bracket", take_profit_price=TEN), {"stop_loss"}),
        (OrderShape(quantity=TEN, order_class="oto", stop_loss_price=TEN), set()),
        (OrderShape(quantity=TEN, order_class="oto", **BRACKET), {"take_profit"}),
        (OrderShape(quantity=TEN, **BRACKET), {"take_profit", "stop_loss"}),
        (OrderShape(quantity=TEN, stop_loss_limit_price=TEN), {"stop_loss"}),
        (
            OrderShape(
                quantity=TEN,
                side="sell",
                order_class="oco",
                order_type="limit",
                limit_price=TEN,
                stop_loss_price=Decimal(5),
            ),
            set(),
        ),
        (OrderShape(quantity=TEN, order_class="oco", stop_loss_price=TEN), {"order_type"}),
        (
            OrderShape(quantity=TEN, order_class="oco", order_type="limit", limit_price=TEN, **BRACKET),
            {"take_profit"},
        ),
        (
            OrderShape(quantity=TEN, order_class="bracket", order_type="stop", stop_price=TEN, **BRACKET),
            {"order_type"},
        ),
        (OrderShape(quantity=TEN, order_class="bracket", time_in_force="ioc", **BRACKET), {"time_in_force"}),
        (OrderShape(notional=FIVE_HUNDRED, order_class="bracket", **BRACKET), {"quantity"}),
        (OrderShape(quantity=Decimal("1.5"), order_class="bracket", **BRACKET), {"quantity"}),
    ],
)
def test_brackets_otos_and_ocos_take_the_exits_alpaca_takes(shape: OrderShape, problems: set[str]) -> None:
    assert set(shape_problems(shape)) == problems


def test_an_exit_on_the_wrong_side_of_the_entry_is_refused_naming_it() -> None:
    market = MarketConditions(tradable=True)
    good = trade(order_class="bracket", **BRACKET)
    assert reasons(good, market, reference_price=Decimal(200)) == []
    [refusal] = refusals(
        trade(order_class="bracket", take_profit_price=Decimal(195), stop_loss_price=Decimal(190)),
        market,
        reference_price=Decimal(200),
    )
    assert (refusal.code, refusal.field) == ("EXIT_PRICE_WRONG_SIDE", "take_profit")
    assert "above the market price ($200)" in refusal.message
    # Against a limit entry's own price the shape already knows: refused where the trade is typed.
    with pytest.raises(ValueError, match=r"^stop_loss: The stop-loss must be below the limit price \$185"):
        trade(order_type="limit", limit_price=Decimal(185), order_class="bracket", **BRACKET)
    oco_shape = OrderShape(quantity=TEN, side="sell", order_type="limit", limit_price=TEN, order_class="oco")
    wrong = msgspec.structs.replace(oco_shape, stop_loss_price=Decimal(11))
    assert shape_problems(wrong) == {"stop_loss": "The stop-loss must be below the limit price $10"}
    short = trade(side="sell", order_class="oto", stop_loss_price=Decimal(190))
    assert "EXIT_PRICE_WRONG_SIDE" in reasons(short, market, reference_price=Decimal(200))  # a short's: above
    held = Position(user_id="U123", symbol="AAPL", quantity=TEN)
    oco = trade(
        side="sell",
        order_type="limit",
        limit_price=Decimal(230),
        order_class="oco",
        stop_loss_price=Decimal(190),
    )
    assert reasons(oco, market, reference_price=Decimal(200), position=held) == []


def test_a_bracket_goes_to_alpaca_with_its_exits_and_an_oco_takes_its_limit_as_the_take_profit() -> None:
    bracket = order_request(trade(order_class="bracket", stop_loss_limit_price=Decimal("189.5"), **BRACKET))
    assert bracket.order_class == OrderClass.BRACKET
    assert bracket.take_profit is not None and bracket.take_profit.limit_price == 220
    assert bracket.stop_loss is not None and (
        bracket.stop_loss.stop_price,
        bracket.stop_loss.limit_price,
    ) == (
        190,
        189.5,
    )
    oco = order_request(
        trade(
            side="sell", order_type="limit", limit_price=Decimal(230), order_class="oco", stop_loss_price=TEN
        )
    )
    assert (
        oco.order_class == OrderClass.OCO
        and oco.take_profit is not None
        and oco.take_profit.limit_price == 230
    )


def test_each_exit_is_a_trade_of_its_own_named_by_its_client_order_id_and_its_parent() -> None:
    from messages.trade import LegOrder
    from workers.handlers.legs import leg_messages, leg_trade_id

    parent = pending_record(
        trade(order_class="bracket", **BRACKET), recorded_at=datetime.now(UTC), expires_at=0
    )
    leg = LegOrder(
        order_id="a1",
        client_order_id=str(uuid.uuid4()),
        leg="stop_loss",
        side="sell",
        order_type="stop",
        quantity=TEN,
        stop_price=Decimal(190),
        time_in_force="gtc",
    )
    parent = msgspec.structs.replace(parent, legs=(leg,))
    [message] = leg_messages(parent, at=datetime.now(UTC))
    child = message.trade
    assert str(child.trade_id) == leg.client_order_id and child.parent_trade_id == parent.trade_id
    assert (child.leg, child.leg_order_id, child.side, child.stop_price) == ("stop_loss", "a1", "sell", 190)
    assert child.source == "leg" and child.order_class == "simple"
    odd = msgspec.structs.replace(leg, client_order_id="not-a-uuid")
    assert leg_trade_id(odd) == leg_trade_id(odd) and str(leg_trade_id(odd)) != "not-a-uuid"
    assert "the stop-loss exit of trade" in (order_terms(child) or "")
