"""The TradeStore contract for trade records, run against memory, moto's server and DynamoDB Local."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import msgspec
import pytest

from messages.trade import Rejection
from tests.contract.builders import (
    EXECUTED,
    FAILED,
    NOW,
    POSITION_GUARD,
    SUBMITTED,
    audit,
    event_types,
    executed,
    failed,
    pending,
    position,
    unchained,
)
from workers.console.stack.ports import free_port
from workers.store.dynamodb.store import DynamoTradeStore
from workers.store.port import StoreUnavailable, TradeStore


async def test_create_tables_is_idempotent(store: TradeStore) -> None:
    await store.create_tables()
    await store.create_tables()
    record = pending()
    assert await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)]) is None
    assert await store.get_trade(record.trade_id) == record


async def test_unknown_items_read_as_none(store: TradeStore) -> None:
    assert await store.get_trade(uuid.uuid4()) is None
    assert await store.get_position("U123", "AAPL") is None
    assert await store.get_audit(uuid.uuid4(), SUBMITTED) is None
    assert await store.list_audit(uuid.uuid4()) == []
    assert await store.list_positions("U123") == []


async def test_a_duplicate_new_trade_returns_the_stored_one_and_writes_no_audit(store: TradeStore) -> None:
    record = pending()
    first_audit = audit(record.trade_id, SUBMITTED, {"attempt": 1})
    assert await store.put_new_trade(record, [first_audit]) is None

    redelivered = msgspec.structs.replace(record, recorded_at=NOW + timedelta(seconds=1))
    again = [audit(record.trade_id, SUBMITTED, {"attempt": 2}), audit(record.trade_id, "020#trade_recorded")]
    assert await store.put_new_trade(redelivered, again) == record
    assert await store.get_trade(record.trade_id) == record
    assert [unchained(event) for event in await store.list_audit(record.trade_id)] == [first_audit]


async def test_another_order_under_an_existing_trade_id_is_refused_and_audited(store: TradeStore) -> None:
    record = pending()
    assert await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)]) is None

    reused = msgspec.structs.replace(record, quantity=Decimal(99))
    assert await store.put_new_trade(reused, [audit(record.trade_id, SUBMITTED, {"attempt": 2})]) == record
    assert await store.get_trade(record.trade_id) == record
    events = await store.list_audit(record.trade_id)
    assert event_types(events) == ["trade_submitted", "change_refused"]
    assert events[1].details["stage"] == "persistence"
    assert events[1].details["fields"] == ["quantity"]
    assert (events[1].details["stored"]["quantity"], events[1].details["attempted"]["quantity"]) == (
        "10",
        "99",
    )


async def test_an_outcome_is_recorded_once(store: TradeStore) -> None:
    record = pending()
    await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])
    done = executed(record)
    assert await store.record_outcome(done, audit(record.trade_id, EXECUTED)) is None
    assert await store.get_trade(record.trade_id) == done

    # The same outcome again is a redelivery; another one is an attempt to change a terminal trade: audited.
    assert await store.record_outcome(executed(record), audit(record.trade_id, EXECUTED)) == done
    assert [event.event_key for event in await store.list_audit(record.trade_id)] == [SUBMITTED, EXECUTED]
    assert await store.record_outcome(failed(record), audit(record.trade_id, FAILED)) == done
    assert await store.get_trade(record.trade_id) == done
    events = await store.list_audit(record.trade_id)
    assert event_types(events) == ["trade_submitted", "trade_executed", "change_refused"]
    refusal = events[2].details
    assert (refusal["operation"], refusal["stage"]) == ("record_outcome", "execution")
    assert (refusal["stored"]["status"], refusal["attempted"]["status"]) == ("executed", "failed")


async def test_an_outcome_for_an_unknown_trade_raises_key_error(store: TradeStore) -> None:
    record = failed(pending())
    with pytest.raises(KeyError):
        await store.record_outcome(record, audit(record.trade_id, FAILED))
    assert await store.get_audit(record.trade_id, FAILED) is None


async def test_an_outcome_must_be_terminal(store: TradeStore) -> None:
    record = pending()
    await store.put_new_trade(record, [])
    with pytest.raises(ValueError):
        await store.record_outcome(record, audit(record.trade_id, EXECUTED))


async def test_a_terminal_trade_cannot_be_changed(store: TradeStore) -> None:
    reasons = (Rejection(field="quantity", code="too_large", message="at most 1000"),)
    rejected = msgspec.structs.replace(pending(), status="rejected", rejection_reasons=reasons)
    assert await store.put_new_trade(rejected, [audit(rejected.trade_id, "020#trade_rejected")]) is None

    assert await store.record_outcome(executed(rejected), audit(rejected.trade_id, EXECUTED)) == rejected
    assert await store.put_new_trade(pending(rejected.request()), []) == rejected
    assert await store.get_trade(rejected.trade_id) == rejected
    assert await store.get_audit(rejected.trade_id, EXECUTED) is None


async def test_an_audit_item_without_its_trade_is_an_invariant_break(store: TradeStore) -> None:
    record = pending()
    await store.append_audit(audit(record.trade_id, SUBMITTED))
    with pytest.raises(RuntimeError):
        await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])
    assert await store.get_trade(record.trade_id) is None

    await store.put_new_trade(record, [])
    await store.append_audit(audit(record.trade_id, EXECUTED))
    with pytest.raises(RuntimeError):
        await store.record_outcome(executed(record), audit(record.trade_id, EXECUTED))
    assert await store.get_trade(record.trade_id) == record


async def test_concurrent_duplicates_take_effect_once(store: TradeStore) -> None:
    record = pending()
    puts = await asyncio.gather(
        *(store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)]) for _ in range(8))
    )
    assert puts.count(None) == 1

    outcomes = [executed(record) if i % 2 else failed(record) for i in range(8)]
    recorded = await asyncio.gather(
        *(store.record_outcome(o, audit(record.trade_id, f"030#trade_{o.status}")) for o in outcomes)
    )
    assert recorded.count(None) == 1
    winner = outcomes[recorded.index(None)]
    # Each loser whose outcome differs from the winner's (4 of the 7) is a refused change, audited.
    assert sorted(event_types(await store.list_audit(record.trade_id))) == sorted(
        ["trade_submitted", f"trade_{winner.status}"] + ["change_refused"] * 4
    )

    trade_ids = [uuid.uuid4() for _ in range(8)]
    writes = await asyncio.gather(
        *(store.apply_position(position(t, "1"), 0, audit(t, POSITION_GUARD)) for t in trade_ids)
    )
    assert sorted(w.value for w in writes) == ["applied"] + ["version_conflict"] * 7


async def test_an_unreachable_dynamodb_raises_store_unavailable() -> None:
    store = await DynamoTradeStore.open(
        table_prefix="t-unreachable",
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id="testing",
        secret_access_key="testing",
        connect_timeout_s=0.5,
        max_attempts=1,
    )
    try:
        with pytest.raises(StoreUnavailable):
            await store.get_trade(uuid.uuid4())
    finally:
        await store.close()
