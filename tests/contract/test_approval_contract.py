"""The TradeStore contract for a trade awaiting approval, run against memory, moto's server and DynamoDB
Local: its one decision, and nothing else moving it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import msgspec
import pytest

from messages.records import Approval, ApprovalDecision, TradeRecord
from messages.trade import Rejection
from tests.contract.builders import (
    EXECUTED,
    NOW,
    SUBMITTED,
    audit,
    event_types,
    executed,
    pending,
    unknown,
)
from workers.store.port import TradeStore

REQUESTED = "012#approval_requested"
DECIDED_KEYS = {
    "approved": "015#trade_approved",
    "rejected": "015#trade_approval_rejected",
    "expired": "015#trade_approval_expired",
}


def awaiting() -> TradeRecord:
    approval = Approval(
        threshold=Decimal(10_000),
        notional=Decimal("20000.50"),
        requested_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )
    return msgspec.structs.replace(pending(), status="awaiting_approval", approval=approval)


def decided(record: TradeRecord, decision: ApprovalDecision, by: str = "U0APPROVER") -> TradeRecord:
    assert record.approval is not None
    approval = msgspec.structs.replace(
        record.approval, decision=decision, decided_by=by, decided_at=NOW + timedelta(minutes=1)
    )
    if decision == "approved":
        return msgspec.structs.replace(record, status="pending", approval=approval)
    reason = Rejection(field="approval", code=f"APPROVAL_{decision.upper()}", message=f"{decision} by {by}")
    return msgspec.structs.replace(
        record,
        status="rejected",
        approval=approval,
        rejection_reasons=(reason,),
        error_code=reason.code,
        error_message=reason.message,
    )


async def put_awaiting(store: TradeStore) -> TradeRecord:
    record = awaiting()
    assert (
        await store.put_new_trade(
            record, [audit(record.trade_id, SUBMITTED), audit(record.trade_id, REQUESTED)]
        )
        is None
    )
    return record


async def test_a_trade_awaiting_approval_is_kept_as_written_and_listed_open(store: TradeStore) -> None:
    record = await put_awaiting(store)
    assert await store.get_trade(record.trade_id) == record
    assert await store.list_open_trades(["awaiting_approval"]) == [record]
    assert await store.list_open_trades(["pending", "working", "unknown"]) == []


async def test_the_first_decision_wins_and_a_second_returns_the_stored_record(store: TradeStore) -> None:
    record = await put_awaiting(store)
    approved = decided(record, "approved")
    assert await store.decide_approval(approved, audit(record.trade_id, DECIDED_KEYS["approved"])) is None
    assert await store.get_trade(record.trade_id) == approved
    rejected = decided(record, "rejected", by="U0APPROVER2")
    stored = await store.decide_approval(rejected, audit(record.trade_id, DECIDED_KEYS["rejected"]))
    assert stored == approved
    assert await store.get_trade(record.trade_id) == approved
    types = event_types(await store.list_audit(record.trade_id))
    assert types == ["trade_submitted", "approval_requested", "trade_approved"]
    assert await store.list_open_trades(["awaiting_approval"]) == []
    assert await store.list_open_trades(["pending"]) == [approved]


async def test_a_redelivered_decision_changes_nothing(store: TradeStore) -> None:
    record = await put_awaiting(store)
    expired = decided(record, "expired", by="tradeflow")
    assert await store.decide_approval(expired, audit(record.trade_id, DECIDED_KEYS["expired"])) is None
    again = await store.decide_approval(expired, audit(record.trade_id, DECIDED_KEYS["expired"]))
    assert again == expired
    types = event_types(await store.list_audit(record.trade_id))
    assert types == ["trade_submitted", "approval_requested", "trade_approval_expired"]  # no change_refused


async def test_two_decisions_at_once_write_one(store: TradeStore) -> None:
    record = await put_awaiting(store)
    approved, rejected = decided(record, "approved"), decided(record, "rejected", by="U0APPROVER2")
    answers = await asyncio.gather(
        store.decide_approval(approved, audit(record.trade_id, DECIDED_KEYS["approved"])),
        store.decide_approval(rejected, audit(record.trade_id, DECIDED_KEYS["rejected"])),
    )
    assert answers.count(None) == 1
    winner = approved if answers[0] is None else rejected
    assert await store.get_trade(record.trade_id) == winner
    decisions = [
        t for t in event_types(await store.list_audit(record.trade_id)) if t.startswith("trade_appro")
    ]
    assert len(decisions) == 1


async def test_nothing_but_a_decision_moves_a_trade_awaiting_approval(store: TradeStore) -> None:
    record = await put_awaiting(store)
    assert await store.record_outcome(executed(record), audit(record.trade_id, EXECUTED)) == record
    assert await store.record_progress(unknown(record), None) == record
    assert await store.get_trade(record.trade_id) == record


async def test_a_decision_for_a_trade_that_never_waited_is_refused(store: TradeStore) -> None:
    record = pending()
    assert await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)]) is None
    with pytest.raises(ValueError):
        await store.decide_approval(record, audit(record.trade_id, DECIDED_KEYS["approved"]))
    no_longer_waiting = decided(awaiting(), "approved")
    stored = await store.decide_approval(
        msgspec.structs.replace(no_longer_waiting, trade_id=record.trade_id),
        audit(record.trade_id, DECIDED_KEYS["approved"]),
    )
    assert stored == record
