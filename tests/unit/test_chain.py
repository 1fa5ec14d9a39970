"""The five handlers on in-memory fakes: the chain's outcomes, the audit trail, and idempotency."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from brokers.port import BrokerBusy, BrokerResult
from brokers.simulated import SimulatedBroker
from messages.events import (
    AnyMessage,
    PositionUpdated,
    SubmitTrade,
    TradeExecuted,
    TradeFailed,
    TradeRecorded,
    TradeRejected,
    TradeValidated,
)
from messages.records import KillSwitch
from messages.trade import TradeRequest
from tests.unit.fakes import CountingBroker, FakeNotifier, make_deps, submit, trade
from workers.chain.routing import next_stage
from workers.chain.stage_handlers import STAGE_HANDLERS as HANDLERS
from workers.handlers.audit import NOTIFIED_KEY
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred, InvariantViolation, UnknownTrade
from workers.handlers.rate_waits import QueuedBehindRateLimit


async def run_chain(message: AnyMessage, deps: Deps) -> list[AnyMessage]:
    """Drive a message through the routing table until a stage returns nothing."""
    seen: list[AnyMessage] = [message]
    current: AnyMessage | None = message
    while current is not None:
        current = await HANDLERS[next_stage(current)](current, deps)
        if current is not None:
            seen.append(current)
    return seen


async def test_a_trade_runs_the_whole_chain() -> None:
    deps = make_deps()
    command = submit()
    seen = await run_chain(command, deps)
    assert [type(m) for m in seen] == [
        SubmitTrade,
        TradeValidated,
        TradeRecorded,
        TradeExecuted,
        PositionUpdated,
    ]
    record = await deps.store.get_trade(command.trade.trade_id)
    assert record is not None and record.status == "executed"
    assert record.execution_method == "simulation"
    assert record.execution_price is not None and record.slippage_bps is not None
    audit = await deps.store.list_audit(command.trade.trade_id)
    assert [a.event_type for a in audit] == [
        "trade_submitted",
        "trade_recorded",
        "trade_executed",
        "position_updated",
        "trade_notified",
    ]
    position = await deps.store.get_position("U123", "AAPL")
    assert position is not None and position.quantity == Decimal(10)
    assert isinstance(deps.notifier, FakeNotifier) and len(deps.notifier.sent) == 1


async def test_every_stage_delivered_twice_has_one_effect() -> None:
    deps = make_deps()
    command = submit()
    messages = await run_chain(command, deps)
    for message in messages:  # redeliver every stage's input once more
        again = await HANDLERS[next_stage(message)](message, deps)
        if again is not None:
            await HANDLERS[next_stage(again)](again, deps)
    for _ in range(2):  # and the same SubmitTrade twice more
        await run_chain(command, deps)
    assert deps.broker.calls == [command.trade.trade_id]  # type: ignore[attr-defined]
    position = await deps.store.get_position("U123", "AAPL")
    assert position is not None and position.quantity == Decimal(10) and position.version == 1
    assert len(deps.notifier.sent) == 1  # type: ignore[attr-defined]
    assert len(await deps.store.list_audit(command.trade.trade_id)) == 5


async def test_a_rejection_is_recorded_audited_and_notified() -> None:
    deps = make_deps()
    command = submit(symbol="TSLA", user_id="U999")
    seen = await run_chain(command, deps)
    assert [type(m) for m in seen] == [SubmitTrade, TradeRejected]
    rejected = seen[-1]
    assert isinstance(rejected, TradeRejected) and rejected.reasons[0].code == "NOT_A_TRADER"
    record = await deps.store.get_trade(command.trade.trade_id)
    assert record is not None and record.status == "rejected" and record.error_code == "NOT_A_TRADER"
    events = [a.event_type for a in await deps.store.list_audit(command.trade.trade_id)]
    assert events == ["trade_submitted", "trade_rejected", "trade_notified"]
    assert len(deps.notifier.sent) == 1  # type: ignore[attr-defined]


async def test_the_kill_switch_in_the_store_halts_trading() -> None:
    deps = make_deps()
    await deps.store.set_kill_switch(KillSwitch(engaged=True, reason="drill"))
    seen = await run_chain(submit(), deps)
    assert isinstance(seen[-1], TradeRejected) and seen[-1].reasons[0].code == "TRADING_HALTED"


async def test_an_oversell_is_refused_and_a_sell_realizes_pnl() -> None:
    deps = make_deps()
    await run_chain(submit(quantity=Decimal(10)), deps)
    oversell = await run_chain(submit(side="sell", quantity=Decimal(11)), deps)
    assert isinstance(oversell[-1], TradeRejected)
    assert oversell[-1].reasons[0].code == "INSUFFICIENT_POSITION"
    await run_chain(submit(side="sell", quantity=Decimal(4)), deps)
    position = await deps.store.get_position("U123", "AAPL")
    assert position is not None and position.quantity == Decimal(6) and position.version == 2


async def test_an_unmarketable_limit_order_fails_with_a_reason() -> None:
    deps = make_deps()
    seen = await run_chain(submit(order_type="limit", limit_price=Decimal("1.00")), deps)
    assert isinstance(seen[-1], TradeFailed)
    assert seen[-1].error.code == "LIMIT_NOT_MARKETABLE"
    assert len(deps.notifier.sent) == 1  # type: ignore[attr-defined]


async def test_a_message_for_an_unknown_trade_is_permanent() -> None:
    deps = make_deps()
    with pytest.raises(UnknownTrade):
        await HANDLERS["execution"](TradeRecorded(trade=trade(), recorded_at=trade().submitted_at), deps)


async def test_a_reused_trade_id_with_another_order_is_an_invariant_violation() -> None:
    deps = make_deps()
    trade_id = uuid.uuid4()
    await run_chain(submit(trade_id=trade_id), deps)
    with pytest.raises(InvariantViolation, match="quantity"):
        await run_chain(submit(trade_id=trade_id, quantity=Decimal(99)), deps)


async def test_a_notification_in_progress_elsewhere_is_deferred_not_sent_twice() -> None:
    from workers.handlers.errors import Deferred

    deps = make_deps()
    message: AnyMessage | None = submit()
    while message is not None and next_stage(message) != "notifications":
        message = await HANDLERS[next_stage(message)](message, deps)
    assert isinstance(message, PositionUpdated)
    now_ms = int(deps.clock().timestamp() * 1000)
    assert await deps.store.claim_lease(
        f"{NOTIFIED_KEY}#{message.trade.trade_id}", now_ms=now_ms, lease_ms=60_000
    )
    with pytest.raises(Deferred):  # another delivery holds the lease: wait, don't send
        await HANDLERS["notifications"](message, deps)
    assert deps.notifier.sent == []  # type: ignore[attr-defined]


async def test_a_rejection_whose_publish_died_is_told_even_when_a_redelivery_then_passes() -> None:
    deps = make_deps()
    command = submit()
    await deps.store.set_kill_switch(KillSwitch(engaged=True, reason="drill", changed_by="OPS1"))
    first = await HANDLERS["validation"](command, deps)  # recorded REJECTED ... then the worker dies
    assert isinstance(first, TradeRejected)
    await deps.store.set_kill_switch(KillSwitch(engaged=False, reason="", changed_by="OPS1"))

    passed = await HANDLERS["validation"](command, deps)  # RabbitMQ redelivers; the halt is over
    assert isinstance(passed, TradeValidated)
    told = await HANDLERS["persistence"](passed, deps)

    assert isinstance(told, TradeRejected) and told.reasons == first.reasons  # the first decision stands
    record = await deps.store.get_trade(command.trade.trade_id)
    assert record is not None and record.status == "rejected"


async def test_only_the_first_attempt_at_an_order_is_told_it_is_the_first() -> None:
    deps = make_deps()
    command = submit()
    validated = await HANDLERS["validation"](command, deps)
    recorded = await HANDLERS["persistence"](validated, deps)
    assert isinstance(recorded, TradeRecorded)
    broker = deps.broker
    assert isinstance(broker, CountingBroker)
    await deps.store.claim_lease_over(f"order#{command.trade.trade_id}", now_ms=0, lease_ms=1)  # a dead try

    await HANDLERS["execution"](recorded, deps)

    assert broker.first_attempts == [False]  # FallbackBroker may then not simulate without asking Alpaca


async def test_a_duplicate_delivery_waits_while_another_executes_the_trade() -> None:
    deps = make_deps()
    command = submit()
    validated = await HANDLERS["validation"](command, deps)
    recorded = await HANDLERS["persistence"](validated, deps)
    now_ms = int(deps.clock().timestamp() * 1000)
    await deps.store.claim_lease(f"order#{command.trade.trade_id}", now_ms=now_ms, lease_ms=60_000)

    with pytest.raises(Deferred):  # the other delivery is executing it right now
        await HANDLERS["execution"](recorded, deps)
    broker = deps.broker
    assert isinstance(broker, CountingBroker) and broker.calls == []


class BusyOnce(CountingBroker):
    """Rate limited once, before any order left; then it trades."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.busy = 1

    async def execute(self, trade: TradeRequest, *, first_attempt: bool = True) -> BrokerResult:
        if self.busy:
            self.busy -= 1
            self.first_attempts.append(first_attempt)
            raise BrokerBusy("rate limited: nothing was placed")
        return await super().execute(trade, first_attempt=first_attempt)


async def test_a_first_attempt_refused_before_any_order_left_is_retried_as_a_first_attempt() -> None:
    broker = BusyOnce(SimulatedBroker(seed=7, delay_ms=0))
    deps = make_deps(broker=broker)
    command = submit()
    recorded = await HANDLERS["persistence"](await HANDLERS["validation"](command, deps), deps)

    with pytest.raises(QueuedBehindRateLimit):  # it waits in its queue: no retry spent, nothing failed
        await HANDLERS["execution"](recorded, deps)
    executed = await HANDLERS["execution"](recorded, deps)  # the retry: not a later attempt

    assert isinstance(executed, TradeExecuted) and broker.first_attempts == [True, True]
