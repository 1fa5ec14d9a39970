"""The desk's risk limits at validation: each refusal names the limit, its value and what the trade would
have made it; a trader's own limits win over the desk's; an account's bound the account's totals; a
REDUCING halt lets through only what brings a position closer to flat."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from messages.events import SubmitTrade, TradeRejected, TradeValidated
from messages.limits import DeskLimits, RiskLimits
from messages.records import AuditEvent, KillSwitch, Position, pending_record
from tests.unit.fakes import make_deps, policy, submit
from workers.handlers.deps import Deps
from workers.handlers.usage import dollars_of
from workers.handlers.validation import validate_trade


async def _limits(deps: Deps, **scopes: object) -> None:
    assert await deps.store.put_limits(DeskLimits(**scopes), 0)  # type: ignore[arg-type]


async def _codes(deps: Deps, command: SubmitTrade) -> list[str]:
    result = await validate_trade(command, deps)
    if isinstance(result, TradeValidated):
        return []
    assert isinstance(result, TradeRejected)
    return [reason.code for reason in result.reasons]


async def _recorded(deps: Deps, command: SubmitTrade, **changes: object) -> None:
    """The trade as persistence would have put it, then changed (executed, say)."""
    record = pending_record(command.trade, recorded_at=command.trade.submitted_at, expires_at=0)
    assert await deps.store.put_new_trade(msgspec.structs.replace(record, **changes), []) is None


async def test_a_trader_over_their_daily_buy_notional_is_refused_with_the_limit_named() -> None:
    deps = make_deps()
    await _limits(deps, users={"U123": RiskLimits(daily_buy_notional=Decimal(5000))})
    earlier = submit(quantity=Decimal(30), limit_price=Decimal(100), order_type="limit")
    await _recorded(
        deps, earlier, status="executed", filled_quantity=Decimal(30), execution_price=Decimal(100)
    )
    result = await validate_trade(
        submit(quantity=Decimal(25), limit_price=Decimal(100), order_type="limit"), deps
    )
    assert isinstance(result, TradeRejected)
    [reason] = result.reasons
    assert reason.code == "DAILY_BUY_NOTIONAL_LIMIT"
    assert reason.message == (
        "Dollars bought today would reach $5,500.00, over your daily limit of $5,000.00 ($3,000.00 so far)"
    )
    assert reason.next_step == "Keep this order to $2,000.00, or ask an operator to raise the limit"
    # Another trader, under the desk's default (none set), trades freely.
    assert await _codes(deps, submit(user_id="U456", quantity=Decimal(25))) == []


async def test_the_desk_default_applies_unless_the_trader_has_their_own() -> None:
    deps = make_deps()
    await _limits(
        deps,
        desk=RiskLimits(max_open_orders=1),
        users={"U456": RiskLimits(max_open_orders=3)},
    )
    for user in ("U123", "U456"):
        await _recorded(deps, submit(user_id=user), status="working")
    assert await _codes(deps, submit(user_id="U123")) == ["OPEN_ORDERS_LIMIT"]
    assert await _codes(deps, submit(user_id="U456")) == []


async def test_orders_per_minute_and_a_refused_trade_counts_for_nothing() -> None:
    deps = make_deps()
    await _limits(deps, desk=RiskLimits(max_orders_per_minute=2))
    await _recorded(deps, submit(quantity=Decimal(1)), status="executed")
    await _recorded(deps, submit(quantity=Decimal(2)), status="rejected")
    assert await _codes(deps, submit(quantity=Decimal(3))) == []
    await _recorded(deps, submit(quantity=Decimal(4)), status="working")
    assert await _codes(deps, submit(quantity=Decimal(5))) == ["ORDER_RATE_LIMIT"]


async def test_the_duplicate_guard_asks_for_a_confirmation() -> None:
    deps = make_deps()
    await _limits(deps, desk=RiskLimits(duplicate_window_s=30))
    first = submit(quantity=Decimal(10))
    await _recorded(deps, first, status="executed")
    again = submit(quantity=Decimal(10))
    result = await validate_trade(again, deps)
    assert isinstance(result, TradeRejected)
    assert result.reasons[0].code == "DUPLICATE_SUSPECTED"
    assert "confirm" in result.reasons[0].next_step
    assert await _codes(deps, submit(quantity=Decimal(10), confirmed=True)) == []
    assert await _codes(deps, submit(quantity=Decimal(11))) == []  # another size is another order
    old = submit(quantity=Decimal(12), submitted_at=first.trade.submitted_at - timedelta(minutes=5))
    await _recorded(deps, old, status="executed")
    assert await _codes(deps, submit(quantity=Decimal(12))) == []  # outside the window


async def test_a_position_limit_in_shares_and_a_shrinking_trade_always_passes() -> None:
    deps = make_deps(policy=policy(allow_short=True))
    await _limits(deps, desk=RiskLimits(max_position_quantity=Decimal(50)))
    await _position(deps, Decimal(45))
    result = await validate_trade(submit(quantity=Decimal(10)), deps)
    assert isinstance(result, TradeRejected)
    assert result.reasons[0].code == "POSITION_LIMIT"
    assert "would be 55 shares, over your limit of 50" in result.reasons[0].message
    assert await _codes(deps, submit(quantity=Decimal(5))) == []
    assert await _codes(deps, submit(side="sell", quantity=Decimal(40))) == []


async def test_a_price_collar_around_the_last_quote() -> None:
    deps = make_deps()
    await _limits(deps, desk=RiskLimits(price_collar_pct=Decimal(10)))
    quote = await deps.broker.reference_price("AAPL")
    assert quote is not None
    far = submit(order_type="limit", limit_price=(quote * Decimal("1.2")).quantize(Decimal("0.01")))
    result = await validate_trade(far, deps)
    assert isinstance(result, TradeRejected)
    [reason] = result.reasons
    assert reason.code == "PRICE_COLLAR" and reason.field == "limit_price"
    assert "beyond your collar of 10%" in reason.message
    near = submit(order_type="limit", limit_price=(quote * Decimal("1.05")).quantize(Decimal("0.01")))
    assert await _codes(deps, near) == []


async def test_an_account_limit_bounds_the_account_whoever_trades() -> None:
    deps = make_deps(policy=policy(accounts=("main", "growth")))
    await _limits(deps, accounts={"main": RiskLimits(daily_sell_notional=Decimal(1000))})
    await _recorded(
        deps,
        submit(user_id="U456", side="sell", account="main"),
        status="executed",
        filled_quantity=Decimal(8),
        execution_price=Decimal(100),
    )
    await _position(deps, Decimal(100), "main")
    result = await validate_trade(submit(side="sell", order_type="limit", limit_price=Decimal(100)), deps)
    assert isinstance(result, TradeRejected)
    [reason] = result.reasons
    assert reason.code == "DAILY_SELL_NOTIONAL_LIMIT"
    assert "over the main account's daily limit of $1,000.00 ($800.00 so far)" in reason.message


async def test_a_reducing_halt_passes_only_what_brings_the_position_toward_flat() -> None:
    deps = make_deps()
    await deps.store.set_kill_switch(
        KillSwitch(engaged=True, user_id="U123", mode="reducing", automatic=True, reason="day loss")
    )
    await _position(deps, Decimal(20))
    assert await _codes(deps, submit(quantity=Decimal(5))) == ["TRADING_REDUCING"]
    assert await _codes(deps, submit(side="sell", quantity=Decimal(20))) == []
    assert await _codes(deps, submit(side="sell", quantity=Decimal(21))) == [
        "TRADING_REDUCING",
        "INSUFFICIENT_POSITION",
    ]
    assert await _codes(deps, submit(user_id="U456", quantity=Decimal(5))) == []  # another trader
    await deps.store.set_kill_switch(KillSwitch(engaged=True, reason="drill"))  # the desk's full halt wins
    assert await _codes(deps, submit(side="sell", quantity=Decimal(1))) == ["TRADING_HALTED"]


def test_an_open_trade_counts_what_it_asks_for_and_a_closed_one_what_filled() -> None:
    command = submit(quantity=Decimal(10), order_type="limit", limit_price=Decimal(50))
    record = pending_record(command.trade, recorded_at=command.trade.submitted_at, expires_at=0)
    assert dollars_of(record) == Decimal(500)
    partly = msgspec.structs.replace(
        record, status="failed", filled_quantity=Decimal(4), execution_price=Decimal(49)
    )
    assert dollars_of(partly) == Decimal(196)


async def _position(deps: Deps, quantity: Decimal, account: str | None = None) -> None:
    position = Position(user_id="U123", symbol="AAPL", account=account, quantity=quantity)

    guard = AuditEvent(
        trade_id=uuid.uuid4(),
        event_key="position",
        event_type="position_updated",
        audit_id=uuid.uuid4(),
        timestamp=datetime.now(UTC),
        user_id="U123",
        expires_at=0,
    )
    await deps.store.apply_position(position, 0, guard)
