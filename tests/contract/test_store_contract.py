"""One TradeStore contract, run against the in-memory store, moto's server and DynamoDB Local."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import msgspec
import pytest

from messages.records import KillSwitch
from messages.trade import Rejection
from tests.contract.builders import (
    EXECUTED,
    FAILED,
    NOW,
    POSITION_GUARD,
    SUBMITTED,
    a_trade,
    audit,
    executed,
    failed,
    pending,
    position,
)
from workers.store.dynamodb import DynamoTradeStore
from workers.store.local import free_port
from workers.store.memory import MemoryTradeStore
from workers.store.port import PositionWrite, StoreUnavailable, TradeStore


@pytest.fixture(params=["memory", "moto", "dynamodb-local"])
async def store(request: pytest.FixtureRequest, table_prefix: str) -> AsyncIterator[TradeStore]:
    trade_store: TradeStore
    if request.param == "memory":
        trade_store = MemoryTradeStore()
    else:
        endpoint = request.getfixturevalue(
            "moto_endpoint" if request.param == "moto" else "dynamodb_local_endpoint"
        )
        trade_store = await DynamoTradeStore.open(
            table_prefix=table_prefix,
            region="us-east-1",
            endpoint_url=endpoint,
            access_key_id="testing",
            secret_access_key="testing",
        )
    await trade_store.create_tables()
    yield trade_store
    await trade_store.close()


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

    redelivered = msgspec.structs.replace(record, quantity=Decimal(99))
    again = [audit(record.trade_id, SUBMITTED, {"attempt": 2}), audit(record.trade_id, "020#trade_recorded")]
    assert await store.put_new_trade(redelivered, again) == record
    assert await store.get_trade(record.trade_id) == record
    assert await store.list_audit(record.trade_id) == [first_audit]


async def test_an_outcome_is_recorded_once(store: TradeStore) -> None:
    record = pending()
    await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])
    done = executed(record)
    assert await store.record_outcome(done, audit(record.trade_id, EXECUTED)) is None
    assert await store.get_trade(record.trade_id) == done

    assert await store.record_outcome(failed(record), audit(record.trade_id, FAILED)) == done
    assert await store.get_trade(record.trade_id) == done
    assert [event.event_key for event in await store.list_audit(record.trade_id)] == [SUBMITTED, EXECUTED]


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
    assert len(await store.list_audit(record.trade_id)) == 2

    trade_ids = [uuid.uuid4() for _ in range(8)]
    writes = await asyncio.gather(
        *(store.apply_position(position(t, "1"), 0, audit(t, POSITION_GUARD)) for t in trade_ids)
    )
    assert sorted(w.value for w in writes) == ["applied"] + ["version_conflict"] * 7


async def test_a_position_is_applied_once_per_trade_and_guarded_by_version(store: TradeStore) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    assert (
        await store.apply_position(position(first, "10"), 0, audit(first, POSITION_GUARD))
        is PositionWrite.APPLIED
    )
    stored = await store.get_position("U123", "AAPL")
    assert stored == msgspec.structs.replace(position(first, "10"), version=1)

    # The trade's guard wins over the version, whether the version is right or stale.
    assert await store.apply_position(position(first, "20"), 1, audit(first, POSITION_GUARD)) is (
        PositionWrite.ALREADY_APPLIED
    )
    assert await store.apply_position(position(first, "20"), 0, audit(first, POSITION_GUARD)) is (
        PositionWrite.ALREADY_APPLIED
    )
    for stale in (0, 2, 7):
        assert await store.apply_position(position(second, "15"), stale, audit(second, POSITION_GUARD)) is (
            PositionWrite.VERSION_CONFLICT
        )
    assert await store.get_audit(second, POSITION_GUARD) is None
    assert await store.get_position("U123", "AAPL") == stored

    assert await store.apply_position(position(second, "15"), 1, audit(second, POSITION_GUARD)) is (
        PositionWrite.APPLIED
    )
    assert await store.get_position("U123", "AAPL") == msgspec.structs.replace(
        position(second, "15"), version=2
    )


async def test_a_position_for_a_new_symbol_conflicts_unless_expected_absent(store: TradeStore) -> None:
    trade_id = uuid.uuid4()
    assert await store.apply_position(position(trade_id, "1"), 1, audit(trade_id, POSITION_GUARD)) is (
        PositionWrite.VERSION_CONFLICT
    )
    assert await store.get_position("U123", "AAPL") is None


async def test_positions_are_listed_per_user_by_symbol(store: TradeStore) -> None:
    for user_id, symbol in [("U123", "MSFT"), ("U456", "AAPL"), ("U123", "AAPL")]:
        trade_id = uuid.uuid4()
        held = position(trade_id, "5", user_id=user_id, symbol=symbol)
        assert await store.apply_position(held, 0, audit(trade_id, POSITION_GUARD)) is PositionWrite.APPLIED
    listed = await store.list_positions("U123")
    assert [(held.symbol, held.version, held.quantity) for held in listed] == [
        ("AAPL", 1, Decimal(5)),
        ("MSFT", 1, Decimal(5)),
    ]
    assert await store.list_positions("U999") == []


async def test_audit_is_append_only(store: TradeStore) -> None:
    trade_id = uuid.uuid4()
    original = audit(trade_id, "050#trade_notified", {"channel": "C1"})
    assert await store.append_audit(original) is True
    assert await store.append_audit(audit(trade_id, "050#trade_notified", {"channel": "C2"})) is False
    assert await store.get_audit(trade_id, "050#trade_notified") == original


async def test_audit_is_listed_in_event_key_order(store: TradeStore) -> None:
    trade_id = uuid.uuid4()
    keys = ["050#e", "010#a", "030#c", "020#b", "020#B", "040#d"]
    for event_key in keys:
        assert await store.append_audit(audit(trade_id, event_key)) is True
    await store.append_audit(audit(uuid.uuid4(), "000#other_trade"))
    assert [event.event_key for event in await store.list_audit(trade_id)] == sorted(keys)


async def test_decimals_round_trip_exactly(store: TradeStore) -> None:
    trade = a_trade(
        quantity=Decimal("0.1") + Decimal("0.2"), order_type="limit", limit_price=Decimal("150.0523")
    )
    record = msgspec.structs.replace(
        executed(pending(trade)), execution_time_ms=Decimal("12345678901234567890.1234567")
    )
    await store.put_new_trade(record, [])

    stored = await store.get_trade(record.trade_id)
    assert stored == record
    assert stored is not None
    assert stored.quantity == Decimal("0.3") and str(stored.quantity) == "0.3"
    assert str(stored.price) == "150.0523" and str(stored.execution_price) == "150.0523"
    assert stored.execution_time_ms == Decimal("12345678901234567890.1234567")
    numbers = [
        value for value in msgspec.structs.asdict(stored).values() if isinstance(value, int | float | Decimal)
    ]
    assert not any(isinstance(value, float) for value in numbers)
    assert isinstance(stored.expires_at, int)

    trade_id = uuid.uuid4()
    await store.apply_position(position(trade_id, "0.3"), 0, audit(trade_id, POSITION_GUARD))
    held = await store.get_position("U123", "AAPL")
    assert held is not None
    assert (held.quantity, held.average_cost, held.realized_pnl) == (
        Decimal("0.3"),
        Decimal("150.0523"),
        Decimal("-0.0000001"),
    )
    assert isinstance(held.version, int)


async def test_floats_are_refused(store: TradeStore) -> None:
    with pytest.raises(TypeError):
        await store.append_audit(audit(uuid.uuid4(), SUBMITTED, {"price": 150.05}))


async def test_nested_details_and_rejection_reasons_round_trip(store: TradeStore) -> None:
    details = {
        "reasons": [{"field": "quantity", "code": "too_large", "message": "at most 1000"}],
        "limits": {"max_notional": Decimal("500000.01"), "levels": [Decimal("0.1"), 2, "x", True, None]},
        "empty_list": [],
        "empty_map": {},
        "note": "",
    }
    event = audit(uuid.uuid4(), "020#trade_rejected", details)
    assert await store.append_audit(event) is True
    stored_event = await store.get_audit(event.trade_id, event.event_key)
    assert stored_event == event
    assert stored_event is not None
    levels = stored_event.details["limits"]["levels"]
    assert [type(value) for value in levels] == [Decimal, Decimal, str, bool, type(None)]

    reasons = (
        Rejection(field="quantity", code="too_large", message="at most 1000"),
        Rejection(field="symbol", code="not_tradable", message="ZZZZ is not tradable"),
    )
    rejected = msgspec.structs.replace(pending(), status="rejected", rejection_reasons=reasons)
    await store.put_new_trade(rejected, [])
    stored = await store.get_trade(rejected.trade_id)
    assert stored is not None and stored.rejection_reasons == reasons


async def test_kill_switch_is_off_until_set(store: TradeStore) -> None:
    assert await store.get_kill_switch() == KillSwitch(engaged=False)
    engaged = KillSwitch(engaged=True, reason="drill", changed_by="U999", changed_at=NOW)
    await store.set_kill_switch(engaged)
    assert await store.get_kill_switch() == engaged
    released = KillSwitch(engaged=False, reason="drill over", changed_by="U999", changed_at=NOW)
    await store.set_kill_switch(released)
    assert await store.get_kill_switch() == released


async def test_a_lease_has_one_holder_until_it_runs_out(store: TradeStore) -> None:
    assert await store.claim_lease("notify#t1", now_ms=1_000, lease_ms=500) is True
    assert await store.claim_lease("notify#t1", now_ms=1_200, lease_ms=500) is False  # still held
    assert await store.claim_lease("notify#t2", now_ms=1_200, lease_ms=500) is True  # another name
    assert await store.claim_lease("notify#t1", now_ms=1_501, lease_ms=500) is True  # ran out: taken over
    claims = await asyncio.gather(
        *(store.claim_lease("notify#t3", now_ms=5_000, lease_ms=500) for _ in range(8))
    )
    assert claims.count(True) == 1


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
