"""The TradeStore contract for positions, audit, values and control items, on all three backends."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import msgspec
import pytest

from messages.records import KillSwitch
from messages.trade import Rejection
from tests.contract.builders import (
    NOW,
    POSITION_GUARD,
    SUBMITTED,
    a_trade,
    audit,
    event_types,
    executed,
    pending,
    position,
    unchained,
)
from workers.store.port import LeaseClaim, PositionWrite, TradeStore


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
    stored = await store.get_audit(trade_id, "050#trade_notified")
    assert stored is not None and unchained(stored) == original

    # The attempt to change it is itself audited, on the same trade's chain; the same fact again is not.
    assert await store.append_audit(audit(trade_id, "050#trade_notified", {"channel": "C1"})) is False
    events = await store.list_audit(trade_id)
    assert event_types(events) == ["trade_notified", "change_refused"]
    refusal = events[1].details
    assert refusal["operation"] == "append_audit" and refusal["event_key"] == "050#trade_notified"
    assert (refusal["stored"]["details"], refusal["attempted"]["details"]) == (
        {"channel": "C1"},
        {"channel": "C2"},
    )
    assert [event.chain_seq for event in events] == [1, 2]


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
    assert stored_event is not None
    assert unchained(stored_event) == event
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


async def test_a_released_lease_can_be_claimed_at_once(store: TradeStore) -> None:
    assert await store.claim_lease("notify#t1", now_ms=1_000, lease_ms=500) is True
    assert await store.release_lease("notify#t1", claimed_at_ms=1_000, lease_ms=500) is True
    assert await store.claim_lease("notify#t1", now_ms=1_001, lease_ms=500) is True  # not after 1_500
    assert await store.release_lease("notify#t2", claimed_at_ms=1_000, lease_ms=500) is False  # never held


async def test_a_claim_says_whether_it_took_over_a_lease_that_ran_out(store: TradeStore) -> None:
    assert await store.claim_lease_over("notify#t1", now_ms=1_000, lease_ms=500) is LeaseClaim.TAKEN
    assert await store.claim_lease_over("notify#t1", now_ms=1_200, lease_ms=500) is LeaseClaim.HELD
    # the holder died without a word: the next claim knows it may finish someone else's work
    assert await store.claim_lease_over("notify#t1", now_ms=1_501, lease_ms=500) is LeaseClaim.TAKEN_OVER
    assert await store.release_lease("notify#t1", claimed_at_ms=1_501, lease_ms=500) is True
    # a released lease left nothing behind: the next claim is a fresh one
    assert await store.claim_lease_over("notify#t1", now_ms=1_600, lease_ms=500) is LeaseClaim.TAKEN


async def test_only_the_holder_releases_a_lease(store: TradeStore) -> None:
    assert await store.claim_lease("notify#t1", now_ms=1_000, lease_ms=500) is True
    assert await store.claim_lease("notify#t1", now_ms=1_501, lease_ms=500) is True  # ran out: taken over
    # The first holder, late with its failure, must not free the second holder's lease.
    assert await store.release_lease("notify#t1", claimed_at_ms=1_000, lease_ms=500) is False
    assert await store.claim_lease("notify#t1", now_ms=1_600, lease_ms=500) is False  # still held
    assert await store.release_lease("notify#t1", claimed_at_ms=1_501, lease_ms=500) is True
    assert await store.release_lease("notify#t1", claimed_at_ms=1_501, lease_ms=500) is False  # once
    assert await store.claim_lease("notify#t1", now_ms=1_600, lease_ms=500) is True
