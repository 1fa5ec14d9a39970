"""Values come back as written from every role: Decimals exact, nested details and rejections whole."""

from __future__ import annotations

import uuid
from decimal import Decimal

import msgspec

from messages.trade import Rejection
from tests.contract.builders import POSITION_GUARD, a_trade, audit, executed, pending, position, unchained
from workers.store.port import TradeStore


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
