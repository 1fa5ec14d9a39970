"""Validation asks the roster: a trade from someone without the trader role is refused, recorded, audited."""

from __future__ import annotations

from decimal import Decimal

from brokers.port import MarketConditions
from messages.events import TradeRejected, TradeValidated
from tests.unit.fakes import FakeRoles, make_deps, submit
from workers.handlers.validation import validate_trade


class WatchedBroker:
    """A stock broker that notes every question asked of it."""

    name = "watched"

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def conditions(self, symbol: str) -> MarketConditions:
        self.asked.append(f"conditions:{symbol}")
        return MarketConditions(tradable=True)

    async def reference_price(self, symbol: str) -> Decimal | None:
        self.asked.append(f"reference_price:{symbol}")
        return Decimal(100)

    async def close(self) -> None:
        return None


async def test_a_trade_from_a_user_without_the_trader_role_is_rejected_recorded_and_audited() -> None:
    broker = WatchedBroker()
    deps = make_deps(broker=broker, roles=FakeRoles(UVIEW={"viewer"}, UOPS={"operator", "admin"}))
    for user in ("UVIEW", "UOPS", "U999"):
        command = submit(user_id=user)
        rejected = await validate_trade(command, deps)
        assert isinstance(rejected, TradeRejected)
        [reason] = rejected.reasons
        assert reason.code == "NOT_A_TRADER"
        assert reason.next_step == "Ask an admin to grant you the trader role"
        record = await deps.store.get_trade(command.trade.trade_id)
        assert record is not None and record.status == "rejected" and record.error_code == "NOT_A_TRADER"
        audit = await deps.store.list_audit(command.trade.trade_id)
        assert [a.event_type for a in audit] == ["trade_submitted", "trade_rejected"]
        assert audit[1].details["reasons"][0]["code"] == "NOT_A_TRADER"
    assert broker.asked == []  # nobody without the role costs a stock-broker call


async def test_a_trader_is_validated_and_asked_about_once_per_trade() -> None:
    roles = FakeRoles(U123={"trader"})
    deps = make_deps(roles=roles)
    assert isinstance(await validate_trade(submit(user_id="U123"), deps), TradeValidated)
    assert roles.asked == ["U123"]


async def test_a_halted_non_trader_hears_both_reasons() -> None:
    from messages.records import KillSwitch

    deps = make_deps(roles=FakeRoles())
    await deps.store.set_kill_switch(KillSwitch(engaged=True, reason="drill"))
    rejected = await validate_trade(submit(user_id="U123"), deps)
    assert isinstance(rejected, TradeRejected)
    assert [r.code for r in rejected.reasons] == ["NOT_A_TRADER", "TRADING_HALTED"]
