"""The AuditTrail contract: append-only events, a changed fact refused and audited, listed in key order."""

from __future__ import annotations

import uuid

import pytest

from tests.contract.builders import SUBMITTED, audit, event_types, unchained
from workers.store.port import AuditTrail


async def test_audit_is_append_only(store: AuditTrail) -> None:
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


async def test_audit_is_listed_in_event_key_order(store: AuditTrail) -> None:
    trade_id = uuid.uuid4()
    keys = ["050#e", "010#a", "030#c", "020#b", "020#B", "040#d"]
    for event_key in keys:
        assert await store.append_audit(audit(trade_id, event_key)) is True
    await store.append_audit(audit(uuid.uuid4(), "000#other_trade"))
    assert [event.event_key for event in await store.list_audit(trade_id)] == sorted(keys)


async def test_floats_are_refused(store: AuditTrail) -> None:
    with pytest.raises(TypeError):
        await store.append_audit(audit(uuid.uuid4(), SUBMITTED, {"price": 150.05}))
