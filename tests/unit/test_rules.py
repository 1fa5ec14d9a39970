"""Pre-trade rules: each refusal names the field and says what to change."""

from __future__ import annotations

from decimal import Decimal

from messages.records import KillSwitch, Position
from tests.unit.fakes import policy, trade
from workers.handlers.rules import check_trade

OFF = KillSwitch(engaged=False)


def codes(**kwargs: object) -> list[str]:
    t, p = kwargs.pop("t", trade()), kwargs.pop("p", policy())
    args = {"is_trader": True, "kill_switch": OFF, "position": None, "reference_price": Decimal(100)}
    args.update(kwargs)
    return [r.code for r in check_trade(t, p, **args)]  # type: ignore[arg-type]


def test_a_good_trade_passes() -> None:
    assert codes() == []


def test_only_traders_may_trade() -> None:
    assert codes(is_trader=False) == ["NOT_A_TRADER"]


def test_a_non_trader_is_told_to_ask_an_admin_for_the_role() -> None:
    [reason] = check_trade(
        trade(user_id="U999"),
        policy(),
        is_trader=False,
        kill_switch=OFF,
        position=None,
        reference_price=Decimal(100),
    )
    assert reason.field == "user_id" and "U999" in reason.message
    assert reason.next_step == "Ask an admin to grant you the trader role"


def test_the_market_closed_error_reads_as_the_seeds_and_its_guidance_is_a_next_step() -> None:
    from brokers.port import MarketConditions

    closed = MarketConditions(tradable=True, fractionable=True, market_open=False)
    [reason] = check_trade(
        trade(),
        policy(),
        is_trader=True,
        kill_switch=OFF,
        position=None,
        reference_price=Decimal(100),
        market=closed,
    )
    assert (reason.code, reason.message) == ("MARKET_CLOSED", "Market is closed")
    assert reason.next_step.startswith("Check market hours and try again")


def test_the_kill_switch_refuses_everything() -> None:
    assert codes(kill_switch=KillSwitch(engaged=True, reason="market turmoil")) == ["TRADING_HALTED"]


def test_symbols_outside_an_allow_list_are_refused() -> None:
    assert codes(t=trade(symbol="GME")) == ["SYMBOL_NOT_ALLOWED"]


def test_without_an_allow_list_the_stock_brokers_assets_decide() -> None:
    from brokers.port import MarketConditions

    anything = policy(symbols=frozenset())
    assert codes(t=trade(symbol="F"), p=anything, market=MarketConditions(tradable=True)) == []
    halted = MarketConditions(tradable=False, source="alpaca")
    assert codes(t=trade(symbol="F"), p=anything, market=halted) == ["SYMBOL_NOT_TRADABLE"]
    [unknown] = check_trade(
        trade(symbol="APPL"),
        anything,
        is_trader=True,
        kill_switch=OFF,
        position=None,
        reference_price=None,
        market=MarketConditions(tradable=False, listed=False, source="alpaca"),
    )
    assert (unknown.code, unknown.field) == ("SYMBOL_UNKNOWN", "symbol")
    assert unknown.message == "Alpaca lists no asset APPL" and "ticker" in unknown.next_step


def test_quantity_and_notional_limits() -> None:
    assert codes(t=trade(quantity=Decimal(1001))) == ["QUANTITY_TOO_LARGE"]
    assert codes(t=trade(quantity=Decimal(600)), reference_price=Decimal(1000)) == ["NOTIONAL_TOO_LARGE"]
    # a limit order's notional uses its limit price, not the quote
    limit = trade(quantity=Decimal(600), order_type="limit", limit_price=Decimal(10))
    assert codes(t=limit, reference_price=Decimal(1000)) == []


def test_selling_more_than_held_is_refused_unless_shorting_is_enabled() -> None:
    held = Position(user_id="U123", symbol="AAPL", quantity=Decimal(5))
    assert codes(t=trade(side="sell", quantity=Decimal(6)), position=held) == ["INSUFFICIENT_POSITION"]
    assert codes(t=trade(side="sell", quantity=Decimal(5)), position=held) == []
    reasons = check_trade(
        trade(side="sell", quantity=Decimal(6)),
        policy(allow_short=True),
        is_trader=True,
        kill_switch=OFF,
        position=held,
        reference_price=Decimal(100),
    )
    assert reasons == []


def test_reasons_name_the_field_and_the_fix() -> None:
    [reason] = check_trade(
        trade(quantity=Decimal(2000), symbol="MSFT"),
        policy(max_notional=Decimal(10**9)),
        is_trader=True,
        kill_switch=OFF,
        position=None,
        reference_price=Decimal(1),
    )
    assert reason.field == "quantity"
    assert "1000" in reason.message


def _market(**kwargs: object) -> object:
    from brokers.port import MarketConditions

    values: dict[str, object] = {"tradable": True, "market_open": True, "buying_power": Decimal(100_000)}
    values.update(kwargs)
    return MarketConditions(**values)  # type: ignore[arg-type]


def test_the_stock_broker_facts_become_reasons() -> None:
    assert codes(market=_market(tradable=False)) == ["SYMBOL_NOT_TRADABLE"]
    assert codes(market=_market(market_open=False)) == ["MARKET_CLOSED"]
    assert codes(t=trade(quantity=Decimal(500)), market=_market(buying_power=Decimal(1000))) == [
        "INSUFFICIENT_BUYING_POWER"
    ]
    assert codes(t=trade(quantity=Decimal("0.5")), market=_market(fractionable=False)) == [
        "QUANTITY_NOT_FRACTIONABLE"
    ]


def test_a_gtc_limit_order_may_rest_while_the_market_is_closed() -> None:
    gtc = trade(order_type="limit", limit_price=Decimal(90), time_in_force="gtc")
    day = trade(order_type="limit", limit_price=Decimal(90))
    assert codes(t=gtc, market=_market(market_open=False)) == []
    assert codes(t=day, market=_market(market_open=False)) == ["MARKET_CLOSED"]
