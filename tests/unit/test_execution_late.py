"""The execution stage and a trade pending past the deadline: looked up, settled or failed, never placed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from brokers.port import BrokerBusy
from messages.events import ReconcileTrade, TradeExecuted, TradeFailed, TradeRecorded, TradeWorking
from messages.trade import Execution, OrderPending
from tests.unit.fakes import NOW, CountingBroker, ScriptedBroker, make_deps, submit
from workers.handlers.deps import Deps, ReconcilePolicy
from workers.handlers.execution import VERDICT_MARGIN_MS, execute_trade
from workers.handlers.persistence import record_trade
from workers.handlers.rate_waits import QueuedBehindRateLimit
from workers.handlers.validation import validate_trade

RECORDED_AT = NOW
POLICY = ReconcilePolicy(stuck_after=timedelta(minutes=5), attempt_limit=timedelta(seconds=90))
NO_ORDER = OrderPending(
    state="unknown", execution_method="alpaca", reason="no order found for this trade yet"
)
RESTING = OrderPending(state="working", execution_method="alpaca", alpaca_order_id="ord-9", reason="resting")
VERDICT = POLICY.stuck_after + POLICY.attempt_limit  # no attempt begun in time can still send its order


class Clock:
    def __init__(self) -> None:
        self.now = RECORDED_AT

    def __call__(self) -> datetime:
        return self.now


def _deps(broker: object) -> tuple[Deps, Clock]:
    clock = Clock()
    return make_deps(broker=broker, clock=clock, reconcile=POLICY), clock


async def _recorded(deps: Deps, *, died_mid_order: bool = False) -> TradeRecorded:
    """A recorded trade; `died_mid_order`: an attempt took its order lease and died (its order may exist)."""
    validated = await validate_trade(submit(submitted_at=RECORDED_AT), deps)
    recorded = await record_trade(validated, deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)
    if died_mid_order:
        now_ms = int(RECORDED_AT.timestamp() * 1000)
        await deps.store.claim_lease_over(f"order#{recorded.trade.trade_id}", now_ms=now_ms, lease_ms=1)
    return recorded


def _filled() -> Execution:
    return Execution(
        execution_id=uuid.uuid4(),
        execution_method="alpaca",
        execution_price=Decimal("100.01"),
        filled_quantity=Decimal(10),
        execution_timestamp=RECORDED_AT,
        execution_time_ms=Decimal(90),
        reference_price=Decimal(100),
        slippage_bps=Decimal(1),
        market_impact_bps=Decimal("0.3"),
        alpaca_order_id="ord-9",
    )


async def test_a_stuck_pending_trade_with_no_order_fails_not_executed_in_time_audited() -> None:
    broker = ScriptedBroker(NO_ORDER)
    deps, clock = _deps(broker)
    recorded = await _recorded(deps, died_mid_order=True)
    clock.now += VERDICT + timedelta(seconds=1)

    failed = await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps)

    assert isinstance(failed, TradeFailed) and failed.error.code == "NOT_EXECUTED_IN_TIME"
    assert "within 5 minutes" in failed.error.message and "nothing was executed" in failed.error.message
    assert failed.error.next_steps == (
        "Check the market price, then submit the trade again if you still want it",
    )
    assert broker.calls == ["resume:None"]  # looked up, never placed
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "failed" and record.error_code == "NOT_EXECUTED_IN_TIME"
    [audit] = [
        a for a in await deps.store.list_audit(recorded.trade.trade_id) if a.event_type == "trade_failed"
    ]
    assert audit.details["error_code"] == "NOT_EXECUTED_IN_TIME"


async def test_its_original_trade_recorded_redelivered_later_executes_nothing() -> None:
    broker = ScriptedBroker(NO_ORDER)
    deps, clock = _deps(broker)
    recorded = await _recorded(deps, died_mid_order=True)
    clock.now += VERDICT + timedelta(seconds=1)
    first = await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps)

    clock.now += timedelta(hours=2)  # the dead letter is replayed
    again = await execute_trade(recorded, deps)

    assert again == first  # the stored outcome, published again for the stages after
    assert broker.calls == ["resume:None"]


async def test_a_stuck_pending_trade_whose_order_exists_is_settled_not_placed_again() -> None:
    broker = ScriptedBroker(_filled())
    deps, clock = _deps(broker)
    recorded = await _recorded(deps, died_mid_order=True)
    clock.now += POLICY.stuck_after  # the worker died mid-order; the order filled at the stock broker

    executed = await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps)

    assert isinstance(executed, TradeExecuted) and executed.execution.alpaca_order_id == "ord-9"
    assert broker.calls == ["resume:None"]


async def test_a_stuck_pending_trade_whose_order_rests_becomes_working_settled_when_it_ends() -> None:
    broker = ScriptedBroker(RESTING)
    deps, clock = _deps(broker)
    recorded = await _recorded(deps, died_mid_order=True)
    clock.now += VERDICT

    result = await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps)

    assert isinstance(result, tuple)
    [working] = result  # no recheck chain: the stream or the sweeper reports its end
    assert isinstance(working, TradeWorking) and working.alpaca_order_id == "ord-9"
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "working"


async def test_a_late_trade_recorded_is_not_placed_and_comes_back_when_the_verdict_is_safe() -> None:
    broker = ScriptedBroker(NO_ORDER, NO_ORDER)
    deps, clock = _deps(broker)
    recorded = await _recorded(deps, died_mid_order=True)
    clock.now += POLICY.stuck_after + timedelta(seconds=30)  # an attempt begun in time may still send one

    later = await execute_trade(recorded, deps)

    assert isinstance(later, ReconcileTrade) and not later.recheck
    assert later.delay_ms == 60_000 + VERDICT_MARGIN_MS
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "pending"
    clock.now += timedelta(milliseconds=later.delay_ms)
    failed = await execute_trade(later, deps)
    assert isinstance(failed, TradeFailed) and failed.error.code == "NOT_EXECUTED_IN_TIME"
    assert broker.calls == ["resume:None", "resume:None"]


async def test_a_sweep_before_the_verdict_is_safe_leaves_the_trade_pending_for_the_next_sweep() -> None:
    broker = ScriptedBroker(NO_ORDER)
    deps, clock = _deps(broker)
    recorded = await _recorded(deps, died_mid_order=True)
    clock.now += POLICY.stuck_after + timedelta(seconds=30)

    assert await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps) is None
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "pending"


async def test_a_pending_trade_before_the_deadline_is_placed_as_usual() -> None:
    broker = ScriptedBroker(_filled())
    deps, clock = _deps(broker)
    recorded = await _recorded(deps)
    clock.now += POLICY.stuck_after - timedelta(seconds=1)
    assert isinstance(await execute_trade(recorded, deps), TradeExecuted)
    assert broker.calls == ["execute"]


async def test_no_look_at_a_still_resting_order_starts_a_recheck_chain() -> None:
    broker = ScriptedBroker(RESTING, RESTING, RESTING)
    deps, _ = _deps(broker)
    recorded = await _recorded(deps)
    await execute_trade(recorded, deps)  # working: its end is reported by the stream or the sweeper

    assert await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps) is None
    assert await execute_trade(ReconcileTrade(trade=recorded.trade), deps) is None  # a worker start's look


async def test_an_unconfirmed_order_keeps_its_recheck_chain() -> None:
    unsure = OrderPending(
        state="unknown", execution_method="alpaca", reason="request may have reached Alpaca"
    )
    broker = ScriptedBroker(unsure, unsure)
    deps, _ = _deps(broker)
    recorded = await _recorded(deps)
    first = await execute_trade(recorded, deps)
    assert isinstance(first, tuple) and isinstance(first[1], ReconcileTrade) and first[1].delay_ms > 0
    assert isinstance(await execute_trade(first[1], deps), ReconcileTrade)


async def test_on_the_simulation_a_stuck_pending_trade_was_never_executed_and_fails() -> None:
    clock = Clock()
    deps = make_deps(clock=clock, reconcile=POLICY)  # on the simulation, which keeps no orders
    broker = deps.broker
    assert isinstance(broker, CountingBroker)
    recorded = await _recorded(deps, died_mid_order=True)
    clock.now += VERDICT

    failed = await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps)

    assert isinstance(failed, TradeFailed) and failed.error.code == "NOT_EXECUTED_IN_TIME"
    assert failed.error.execution_method == "simulation"
    assert broker.calls == [] and broker.resumed == [recorded.trade.trade_id]


async def test_a_trade_replayed_a_day_after_its_submission_is_never_placed() -> None:
    broker = ScriptedBroker(NO_ORDER)
    deps, clock = _deps(broker)
    clock.now += timedelta(days=1)  # its SubmitTrade sat in a dead-letter queue and is replayed now
    recorded = await _recorded(deps)  # recorded at replay time: only its submission says how old it is

    failed = await execute_trade(recorded, deps)

    assert isinstance(failed, TradeFailed) and failed.error.code == "NOT_EXECUTED_IN_TIME"
    assert "submitted" in failed.error.message and "nothing was executed" in failed.error.message
    assert broker.calls == ["resume:None"]  # looked up, never placed at the next day's price
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "failed" and record.error_code == "NOT_EXECUTED_IN_TIME"


async def test_a_trade_recorded_late_but_submitted_just_now_is_placed() -> None:
    broker = ScriptedBroker(_filled())
    deps, clock = _deps(broker)
    recorded = await _recorded(deps)
    clock.now += POLICY.stuck_after - timedelta(seconds=1)  # a slow queue, still inside the deadline

    assert isinstance(await execute_trade(recorded, deps), TradeExecuted)
    assert broker.calls == ["execute"]


async def test_a_late_trade_no_attempt_ever_sent_fails_without_a_request_to_the_stock_broker() -> None:
    """A trade that waited behind Alpaca's rate limit past its deadline never took its order lease: taking it
    now proves no order exists and stops any. Looking each such trade up spent the budget the trades behind
    it waited for, and made them late in turn (the 1,000-trade campaign: 1,389 lookups, 83 orders)."""
    broker = ScriptedBroker()
    deps, clock = _deps(broker)
    recorded = await _recorded(deps)
    clock.now += POLICY.stuck_after + timedelta(seconds=1)  # an attempt begun in time could still run

    failed = await execute_trade(recorded, deps)
    copy = await execute_trade(recorded, deps)  # another delivery of it

    assert isinstance(failed, TradeFailed) and failed.error.code == "NOT_EXECUTED_IN_TIME"
    assert isinstance(copy, TradeFailed) and copy.error == failed.error  # its outcome, published again
    assert broker.calls == []


async def test_copies_of_a_late_trades_message_look_its_order_up_once() -> None:
    """Deliveries multiply in a long outage (a retry re-enqueued by a worker that then lost its connection
    before the ack): one copy looks the order up and schedules the verdict, the others find its lease."""
    broker = ScriptedBroker(NO_ORDER, NO_ORDER)
    deps, clock = _deps(broker)
    recorded = await _recorded(deps, died_mid_order=True)
    clock.now += POLICY.stuck_after + timedelta(seconds=1)

    first = await execute_trade(recorded, deps)
    copies = [await execute_trade(recorded, deps) for _ in range(3)]

    assert isinstance(first, ReconcileTrade) and first.recheck is False  # the one verdict, scheduled
    assert copies == [None, None, None]
    assert broker.calls == ["resume:None"]
    clock.now += timedelta(milliseconds=first.delay_ms)
    failed = await execute_trade(first, deps)
    assert isinstance(failed, TradeFailed) and failed.error.code == "NOT_EXECUTED_IN_TIME"


async def test_a_late_look_alpaca_did_not_answer_is_taken_again_once_its_lease_ends() -> None:
    class Unanswered(ScriptedBroker):
        async def resume(self, trade: object, broker_order_id: str | None) -> OrderPending:
            self.calls.append("resume")
            if len(self.calls) == 1:
                raise BrokerBusy("Alpaca's budget is spent")
            return NO_ORDER

    broker = Unanswered()
    deps, clock = _deps(broker)
    recorded = await _recorded(deps, died_mid_order=True)
    clock.now += VERDICT - timedelta(seconds=10)

    with pytest.raises(QueuedBehindRateLimit):
        await execute_trade(recorded, deps)
    assert await execute_trade(recorded, deps) is None  # its retry: the look's lease still runs
    clock.now += timedelta(seconds=11)  # the lease ran out, and no attempt can still send an order
    swept = await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps)

    assert isinstance(swept, TradeFailed) and swept.error.code == "NOT_EXECUTED_IN_TIME"
    assert broker.calls == ["resume", "resume"]
