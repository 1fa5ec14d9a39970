"""The audit chain contract, on all three backends: every audit write links on, races never fork the chain,
redeliveries add no link, and refused changes are audited on it."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest

from tests.contract.builders import (
    EXECUTED,
    POSITION_GUARD,
    SUBMITTED,
    WORKING,
    audit,
    event_types,
    executed,
    pending,
    position,
    working,
)
from workers.console.audit.verify import verify_trade
from workers.store.port import PositionWrite, TradeStore


async def links_in_order(store: TradeStore, trade_id: uuid.UUID) -> list[str]:
    """The event keys in chain order, after checking the chain is intact."""
    verdict = await verify_trade(store, trade_id)
    assert (verdict.status, verdict.broken) == ("ok", None)
    events = sorted(await store.list_audit(trade_id), key=lambda event: event.chain_seq or 0)
    assert [event.chain_seq for event in events] == list(range(1, len(events) + 1))
    return [event.event_key for event in events]


async def test_every_audit_write_links_onto_the_trades_one_chain(store: TradeStore) -> None:
    record = pending()
    trade_id = record.trade_id
    await store.put_new_trade(record, [audit(trade_id, SUBMITTED), audit(trade_id, "020#trade_recorded")])
    await store.record_progress(working(record), audit(trade_id, WORKING))
    await store.append_audit(audit(trade_id, "028#working_notified"))
    await store.record_outcome(executed(record), audit(trade_id, EXECUTED))
    assert await store.apply_position(position(trade_id, "10"), 0, audit(trade_id, POSITION_GUARD)) is (
        PositionWrite.APPLIED
    )
    assert await links_in_order(store, trade_id) == [
        SUBMITTED,
        "020#trade_recorded",
        WORKING,
        "028#working_notified",
        EXECUTED,
        POSITION_GUARD,
    ]
    chain = await store.read_audit_chain(trade_id)
    assert chain.head is not None and chain.head["chain_seq"] == {"N": "6"}
    assert all(item["expires_at"] == chain.head["expires_at"] for item in chain.items)


# moto's transactions are not atomic under concurrent requests (DESIGN §9): it forks a chain.
@pytest.mark.parametrize("store", ["memory", "dynamodb-local"], indirect=True)
async def test_concurrent_writers_of_one_trade_never_fork_its_chain(store: TradeStore) -> None:
    record = pending()
    trade_id = record.trade_id
    await store.put_new_trade(record, [audit(trade_id, SUBMITTED)])
    notices = [audit(trade_id, f"06{n}#notice_{n}") for n in range(6)]
    written = await asyncio.gather(
        store.record_outcome(executed(record), audit(trade_id, EXECUTED)),
        store.apply_position(position(trade_id, "10"), 0, audit(trade_id, POSITION_GUARD)),
        *map(store.append_audit, notices),
        *map(store.append_audit, notices[:3]),  # redeliveries racing their originals
    )
    assert written[0] is None and written[1] is PositionWrite.APPLIED
    assert sorted(written[2:]) == [False] * 3 + [True] * 6
    assert sorted(await links_in_order(store, trade_id)) == sorted(
        [SUBMITTED, EXECUTED, POSITION_GUARD, *(notice.event_key for notice in notices)]
    )


async def test_a_redelivered_event_adds_no_link(store: TradeStore) -> None:
    trade_id = uuid.uuid4()
    event = audit(trade_id, "050#trade_notified", {"outcome": "executed"})
    assert await store.append_audit(event) is True
    again = msgspec.structs.replace(event, audit_id=uuid.uuid4())  # a redelivery stamps a new id
    assert await store.append_audit(again) is False
    assert await links_in_order(store, trade_id) == ["050#trade_notified"]


async def test_a_new_trade_links_after_events_already_on_its_chain(store: TradeStore) -> None:
    record = pending()
    trade_id = record.trade_id
    assert await store.append_audit(audit(trade_id, "005#modal_opened")) is True
    assert await store.put_new_trade(record, [audit(trade_id, SUBMITTED), audit(trade_id, "020#b")]) is None
    assert await links_in_order(store, trade_id) == ["005#modal_opened", SUBMITTED, "020#b"]


async def test_progress_after_the_outcome_is_refused_and_audited(store: TradeStore) -> None:
    record = pending()
    await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])
    done = executed(record)
    await store.record_outcome(done, audit(record.trade_id, EXECUTED))

    assert await store.record_progress(working(record, "1"), audit(record.trade_id, WORKING)) == done
    events = await store.list_audit(record.trade_id)
    assert event_types(events) == ["trade_submitted", "trade_executed", "change_refused"]
    refusal = events[2].details
    assert (refusal["operation"], refusal["stage"], refusal["refused"]) == (
        "record_progress",
        "execution",
        "reopening a terminal trade",
    )
    assert (refusal["stored"]["status"], refusal["attempted"]["status"]) == ("executed", "working")
    assert (await links_in_order(store, record.trade_id))[-1] == events[2].event_key


async def test_a_position_redelivery_is_harmless_but_another_fill_under_its_guard_is_audited(
    store: TradeStore,
) -> None:
    trade_id = uuid.uuid4()
    first = {"execution_id": "e1", "position_before": {"quantity": "0"}, "position_after": {"quantity": "10"}}
    guard = audit(trade_id, POSITION_GUARD, first)
    assert await store.apply_position(position(trade_id, "10"), 0, guard) is PositionWrite.APPLIED

    # Redelivered: it finds the fill applied, so its snapshots differ; the execution is the same.
    again = {**first, "position_before": {"quantity": "10"}, "position_after": {"quantity": "20"}}
    redelivery = audit(trade_id, POSITION_GUARD, again)
    assert (
        await store.apply_position(position(trade_id, "20"), 1, redelivery) is PositionWrite.ALREADY_APPLIED
    )
    assert event_types(await store.list_audit(trade_id)) == ["position_updated"]

    other = audit(trade_id, POSITION_GUARD, {**again, "execution_id": "e2"})
    assert await store.apply_position(position(trade_id, "20"), 1, other) is PositionWrite.ALREADY_APPLIED
    events = await store.list_audit(trade_id)
    assert event_types(events) == ["position_updated", "change_refused"]
    assert events[1].details["stage"] == "positions"
    assert events[1].details["attempted"]["details"]["execution_id"] == "e2"
    held = await store.get_position("U123", "AAPL")
    assert held is not None and held.version == 1


async def test_a_trade_without_expires_at_is_refused(store: TradeStore) -> None:
    record = msgspec.structs.replace(pending(), expires_at=None)
    with pytest.raises(ValueError, match="expires_at"):
        await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])
    assert await store.get_trade(record.trade_id) is None
