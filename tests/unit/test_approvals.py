"""Four eyes on the in-memory store: the gate holds a large trade, one decision wins, the trader and the
approvers are told once, nothing reaches the stock broker before an approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from messages.alerts import SendAlert
from messages.events import (
    AnyMessage,
    ApprovalDecided,
    ApprovalRequested,
    CancelOrder,
    DecideApproval,
    PositionUpdated,
    ReconcileTrade,
    TradeRecorded,
    TradeRejected,
    cancel_command_id,
)
from messages.limits import DeskLimits, RiskLimits
from messages.trade import TradeRequest
from tests.unit.fakes import CountingBroker, FakeNotifier, FakeRoles, make_deps, trade
from workers.chain.routing import next_stage, outputs
from workers.chain.stage_handlers import STAGE_HANDLERS
from workers.handlers.approvals import approval_gate, decide_approval
from workers.handlers.audit import EVENT_KEYS
from workers.handlers.deps import ApprovalPolicy, Deps
from workers.handlers.sweeper import find_stuck_trades, sweep_open_trades

APPROVER, OTHER_APPROVER, TRADER = "U0APPROVER", "U0APPROVER2", "U123"
BIG = Decimal(20_000)  # the trade's notional as validation priced it; the threshold is 10,000


def deps_with(**overrides: Any) -> Deps:
    values: dict[str, Any] = {
        "roles": FakeRoles(
            U123={"trader"}, U456={"trader", "approver"}, U0APPROVER={"approver"}, U0APPROVER2={"approver"}
        )
    }
    values.update(overrides)
    return make_deps(**values)


async def set_threshold(deps: Deps, desk: str | None = "10000", **accounts: str) -> None:
    limits = DeskLimits(
        desk=RiskLimits(approval_notional=None if desk is None else Decimal(desk)),
        accounts={name: RiskLimits(approval_notional=Decimal(v)) for name, v in accounts.items()},
    )
    assert await deps.store.put_limits(limits, 0)


async def held(deps: Deps, **overrides: Any) -> tuple[TradeRequest, tuple[Any, ...]]:
    await set_threshold(deps)
    request = trade(**overrides)
    asked = await approval_gate(request, BIG, deps)
    assert asked is not None
    return request, asked


def click(request: TradeRequest, decision: str, by: str, at: datetime | None = None) -> DecideApproval:
    return DecideApproval(
        trade=request,
        decision=decision,
        decided_by=by,
        decided_at=at or datetime.now(UTC),  # type: ignore[arg-type]
    )


async def run(messages: tuple[Any, ...] | list[Any], deps: Deps) -> list[AnyMessage]:
    """Every message through its stage, and what each returns after it, until nothing is left."""
    seen: list[AnyMessage] = []
    queue = [m for m in messages if not isinstance(m, SendAlert)]  # the alerts service is not under test
    while queue:
        message = queue.pop(0)
        seen.append(message)
        queue += [
            m
            for m in outputs(await STAGE_HANDLERS[next_stage(message)](message, deps))
            if not isinstance(m, SendAlert)
        ]
    return seen


# -- the gate ---------------------------------------------------------------------------------------------


async def test_without_a_threshold_or_below_it_a_trade_needs_no_approval() -> None:
    deps = deps_with()
    assert await approval_gate(trade(), BIG, deps) is None
    await set_threshold(deps)
    assert await approval_gate(trade(), Decimal(10_000), deps) is None  # at the threshold: not above it
    assert await approval_gate(trade(parent_trade_id=trade().trade_id, leg="stop_loss"), BIG, deps) is None


async def test_a_trade_above_the_threshold_is_recorded_awaiting_approval_and_the_approvers_are_asked() -> (
    None
):
    deps = deps_with()
    request, asked = await held(deps)
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.status == "awaiting_approval" and record.is_open
    assert (
        record.approval is not None
        and record.approval.threshold == 10_000
        and record.approval.notional == BIG
    )
    assert record.approval.expires_at - record.approval.requested_at == timedelta(minutes=15)
    [requested, alert] = asked
    assert isinstance(requested, ApprovalRequested) and requested.notional == BIG
    assert (
        isinstance(alert, SendAlert)
        and alert.kind == "approval_waiting"
        and alert.trade_id == request.trade_id
    )
    audit = await deps.store.list_audit(request.trade_id)
    assert [a.event_type for a in audit] == ["trade_submitted", "approval_requested"]
    assert await deps.store.list_open_trades(["awaiting_approval"]) == [record]


async def test_a_redelivered_submission_asks_again_and_records_nothing_more() -> None:
    deps = deps_with()
    request, first = await held(deps)
    again = await approval_gate(request, BIG, deps)
    assert again == first
    assert len(await deps.store.list_audit(request.trade_id)) == 2


async def test_the_lower_of_the_desk_and_account_thresholds_applies_and_an_unpriced_trade_waits() -> None:
    deps = deps_with()
    await set_threshold(deps, desk=None, main="5000")
    assert await approval_gate(trade(), Decimal(4_000), deps) is None
    assert await approval_gate(trade(), Decimal(6_000), deps) is not None
    assert await approval_gate(trade(), None, deps) is not None  # no price: the approver judges it


# -- the decision -----------------------------------------------------------------------------------------


async def test_an_approvers_click_approves_it_once_and_it_executes_once() -> None:
    broker = CountingBroker(make_deps().broker)
    deps = deps_with(broker=broker)
    request, asked = await held(deps)
    seen = await run([*asked, click(request, "approve", APPROVER)], deps)
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.status == "executed"
    assert record.approval is not None and record.approval.decision == "approved"
    assert record.approval.decided_by == APPROVER
    assert broker.calls == [request.trade_id]
    assert sum(isinstance(m, TradeRecorded) for m in seen) == 1
    assert sum(isinstance(m, PositionUpdated) for m in seen) == 1
    keys = {a.event_key for a in await deps.store.list_audit(request.trade_id)}
    assert {EVENT_KEYS[k] for k in ("trade_approved", "approval_posted", "approval_decision_posted")} <= keys
    notifier = deps.notifier
    assert isinstance(notifier, FakeNotifier)
    assert [type(n).__name__ for n in notifier.sent] == [
        "ApprovalRequested",
        "ApprovalDecided",
        "PositionUpdated",
    ]
    assert len(notifier.asked) == 1 and [d.decision for _, d in notifier.shown] == ["approved"]


async def test_the_trader_may_not_approve_their_own_trade_nor_a_non_approver_any() -> None:
    deps = deps_with()
    request, _ = await held(deps, user_id="U456")  # a trader who is an approver too
    assert await decide_approval(click(request, "approve", "U456"), deps) is None
    assert await decide_approval(click(request, "approve", "U999"), deps) is None
    assert await decide_approval(click(request, "reject", "U456"), deps) is None
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.status == "awaiting_approval"
    assert record.approval is not None and record.approval.decision is None
    assert len(await deps.store.list_audit(request.trade_id)) == 2


async def test_the_first_decision_wins_and_a_later_one_sends_nothing() -> None:
    broker = CountingBroker(make_deps().broker)
    deps = deps_with(broker=broker)
    request, _ = await held(deps)
    approved = await decide_approval(click(request, "approve", APPROVER), deps)
    assert approved is not None and isinstance(approved[0], TradeRecorded)
    assert await decide_approval(click(request, "reject", OTHER_APPROVER), deps) is None
    assert await decide_approval(click(request, "approve", APPROVER), deps) is None  # a second click
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.status == "pending"
    assert record.approval is not None and record.approval.decided_by == APPROVER
    audit = [a.event_type for a in await deps.store.list_audit(request.trade_id)]
    assert audit.count("trade_approved") == 1 and "trade_approval_rejected" not in audit


async def test_a_redelivered_decision_publishes_its_outcome_again() -> None:
    deps = deps_with()
    request, _ = await held(deps)
    decision = click(request, "reject", APPROVER)
    first = await decide_approval(decision, deps)
    again = await decide_approval(decision, deps)
    assert first is not None and first == again
    rejected, decided = first
    assert isinstance(rejected, TradeRejected) and rejected.reasons[0].code == "APPROVAL_REJECTED"
    assert f"<@{APPROVER}>" in rejected.reasons[0].message
    assert isinstance(decided, ApprovalDecided) and decided.decision == "rejected"


async def test_an_expired_request_ends_rejected_and_a_late_click_cannot_approve_it() -> None:
    broker = CountingBroker(make_deps().broker)
    deps = deps_with(broker=broker, approvals=ApprovalPolicy(ttl=timedelta(minutes=10)))
    request, _ = await held(deps)
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.approval is not None
    late = record.approval.expires_at + timedelta(seconds=1)
    seen = await run([click(request, "approve", APPROVER, at=late)], deps)  # too late: it expired then
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.status == "rejected" and record.error_code == "APPROVAL_EXPIRED"
    assert record.approval is not None and record.approval.decision == "expired"
    assert "within 10 minutes" in (record.error_message or "")
    assert broker.calls == []
    assert [type(m).__name__ for m in seen] == ["DecideApproval", "TradeRejected", "ApprovalDecided"]
    early = click(request, "expire", "tradeflow", at=record.approval.requested_at)
    assert await decide_approval(early, deps) is None  # decided: nothing more


async def test_an_expiry_before_its_time_is_refused() -> None:
    deps = deps_with()
    request, _ = await held(deps)
    assert await decide_approval(click(request, "expire", "tradeflow"), deps) is None
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.status == "awaiting_approval"


async def test_the_traders_cancel_withdraws_the_request_without_asking_the_stock_broker() -> None:
    broker = CountingBroker(make_deps().broker)
    deps = deps_with(broker=broker)
    request, _ = await held(deps)
    now = datetime.now(UTC)
    cancel = CancelOrder(
        trade=request, command_id=cancel_command_id(request.trade_id), requested_by=TRADER, requested_at=now
    )
    seen = await run([cancel], deps)
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.status == "rejected" and record.error_code == "APPROVAL_WITHDRAWN"
    assert broker.calls == [] and broker.resumed == []
    assert [type(m).__name__ for m in seen] == [
        "CancelOrder",
        "DecideApproval",
        "TradeRejected",
        "ApprovalDecided",
    ]
    notifier = deps.notifier
    assert isinstance(notifier, FakeNotifier) and [type(n).__name__ for n in notifier.sent] == [
        "TradeRejected"
    ]


async def test_nothing_reaches_the_stock_broker_while_a_trade_awaits_approval() -> None:
    broker = CountingBroker(make_deps().broker)
    deps = deps_with(broker=broker)
    request, _ = await held(deps)
    now = datetime.now(UTC)
    assert await STAGE_HANDLERS["execution"](TradeRecorded(trade=request, recorded_at=now), deps) is None
    assert await STAGE_HANDLERS["execution"](ReconcileTrade(trade=request, reason="a look"), deps) is None
    assert broker.calls == [] and broker.resumed == []
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.status == "awaiting_approval"


# -- the sweeper ------------------------------------------------------------------------------------------


async def test_the_sweeper_expires_what_ran_out_and_never_settles_a_trade_awaiting_approval() -> None:
    deps = deps_with(approvals=ApprovalPolicy(ttl=timedelta(seconds=30)))
    waiting, _ = await held(deps)
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await find_stuck_trades(deps.store, now=later + timedelta(hours=1), older_than=None) == []
    swept = outputs(await sweep_open_trades(_tick(), _at(deps, later)))
    [expiry] = [m for m in swept if isinstance(m, DecideApproval)]
    assert expiry.decision == "expire" and expiry.trade.trade_id == waiting.trade_id
    assert not any(isinstance(m, ReconcileTrade) for m in swept)
    await run([expiry], deps)
    record = await deps.store.get_trade(waiting.trade_id)
    assert record is not None and record.error_code == "APPROVAL_EXPIRED"
    again = outputs(await sweep_open_trades(_tick(), _at(deps, later + timedelta(minutes=2))))
    assert not any(isinstance(m, DecideApproval) for m in again)


async def test_an_unexpired_request_is_left_waiting_by_the_sweeper() -> None:
    deps = deps_with()
    await held(deps)
    swept = outputs(await sweep_open_trades(_tick(), deps))
    assert not any(isinstance(m, DecideApproval | ReconcileTrade) for m in swept)


# -- the notices ------------------------------------------------------------------------------------------


async def test_each_notice_is_sent_once_however_often_it_is_delivered() -> None:
    deps = deps_with()
    request, asked = await held(deps)
    requested = asked[0]
    for _ in range(3):
        await STAGE_HANDLERS["notifications"](requested, deps)
    decided = await decide_approval(click(request, "approve", APPROVER), deps)
    assert decided is not None
    for _ in range(3):
        await STAGE_HANDLERS["notifications"](decided[1], deps)
    notifier = deps.notifier
    assert isinstance(notifier, FakeNotifier)
    assert len(notifier.asked) == 1 and len(notifier.shown) == 1
    assert [type(n).__name__ for n in notifier.sent] == ["ApprovalRequested", "ApprovalDecided"]


async def test_a_decision_made_before_the_approvers_were_asked_is_shown_by_the_poster() -> None:
    deps = deps_with()
    request, asked = await held(deps)
    # The request's post is held up; the decision lands first, with no message to update yet.
    decided = await decide_approval(click(request, "approve", APPROVER), deps)
    assert decided is not None
    await STAGE_HANDLERS["notifications"](decided[1], deps)
    notifier = deps.notifier
    assert isinstance(notifier, FakeNotifier) and notifier.shown == []
    await STAGE_HANDLERS["notifications"](asked[0], deps)
    assert notifier.asked == []  # decided before the approvers were asked: nothing for them to decide
    assert [type(n).__name__ for n in notifier.sent] == ["ApprovalDecided"]  # the waiting notice is stale


def _tick() -> Any:
    from messages.events import SweepOpenTrades

    return SweepOpenTrades(reason="test")


def _at(deps: Deps, moment: datetime) -> Deps:
    import dataclasses

    return dataclasses.replace(deps, clock=lambda: moment)


class LostAnswerNotifier(FakeNotifier):
    """Its first approvers' post lands, and its answer is lost (a timeout after Slack posted it)."""

    async def ask_approvers(self, request: ApprovalRequested) -> Any:
        from workers.handlers.ports import NotifierUnavailable

        await super().ask_approvers(request)
        if len(self.asked) == 1:
            raise NotifierUnavailable("Slack chat.postMessage failed: TimeoutError()")
        return await self.find_approval_post(request)


async def test_a_post_whose_answer_was_lost_is_found_and_shown_a_decision_made_meanwhile() -> None:
    import dataclasses

    notifier = LostAnswerNotifier()
    deps = deps_with(notifier=notifier)
    request, asked = await held(deps)
    try:
        await STAGE_HANDLERS["notifications"](asked[0], deps)
    except Exception as exc:  # the answer was lost: the queue retries it, once the lease runs out
        assert "TimeoutError" in str(exc)
    decided = await decide_approval(click(request, "approve", APPROVER), deps)  # clicked on that post
    assert decided is not None
    await STAGE_HANDLERS["notifications"](decided[1], deps)  # no post recorded: left to the poster
    later = dataclasses.replace(deps, clock=lambda: datetime.now(UTC) + timedelta(minutes=1))
    await STAGE_HANDLERS["notifications"](asked[0], later)
    assert len(notifier.asked) == 1  # found, not posted again
    assert [d.decision for _, d in notifier.shown] == ["approved"]
