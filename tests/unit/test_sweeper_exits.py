"""The sweeper and a bracket's exits: a held exit is not among Alpaca's open orders, so it is judged by its
group; while another exit of the group rests it costs no lookup, and once none does it gets its look."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from brokers.port import HELD_REASON
from messages.records import TradeRecord, pending_record
from messages.trade import LegOrder
from tests.unit.fakes import trade
from workers.handlers.legs import leg_request
from workers.handlers.sweeper import find_stuck_trades
from workers.store.memory.store import MemoryTradeStore

T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
OLD = T0 - timedelta(hours=1)
BRACKET = {"order_class": "bracket", "take_profit_price": Decimal(220), "stop_loss_price": Decimal(190)}


def _leg(kind: str, order_type: str, **prices: Decimal) -> LegOrder:
    return LegOrder(
        order_id=f"{kind}-order",
        client_order_id=str(uuid.uuid4()),
        leg=kind,  # type: ignore[arg-type]
        side="sell",
        order_type=order_type,  # type: ignore[arg-type]
        quantity=Decimal(10),
        time_in_force="gtc",
        **prices,
    )


async def _bracket(store: MemoryTradeStore, *, entry: str) -> tuple[TradeRecord, TradeRecord, TradeRecord]:
    """A bracket whose entry is `working` or `executed`, and its two exits recorded as working trades (the
    stop-loss held)."""
    legs = (
        _leg("take_profit", "limit", limit_price=Decimal(220)),
        _leg("stop_loss", "stop", stop_price=Decimal(190)),
    )
    parent = pending_record(trade(**BRACKET), recorded_at=OLD, expires_at=2_000_000_000)
    assert await store.put_new_trade(parent, []) is None
    parent = msgspec.structs.replace(parent, status="working", alpaca_order_id="entry-order", legs=legs)
    assert await store.record_progress(parent, None) is None
    if entry == "executed":
        parent = msgspec.structs.replace(
            parent,
            status="executed",
            execution_id=uuid.uuid4(),
            execution_method="alpaca",
            execution_price=Decimal(200),
            filled_quantity=Decimal(10),
            execution_timestamp=OLD,
            execution_time_ms=Decimal(5),
            reference_price=Decimal(200),
            slippage_bps=Decimal(0),
            market_impact_bps=Decimal(0),
        )
        assert await store.record_outcome(parent, _audit(parent)) is None
    exits = []
    for leg, reason in zip(legs, ("resting at Alpaca", HELD_REASON), strict=True):
        record = pending_record(leg_request(parent, leg, at=OLD), recorded_at=OLD, expires_at=2_000_000_000)
        assert await store.put_new_trade(record, []) is None
        record = msgspec.structs.replace(
            record, status="working", alpaca_order_id=leg.order_id, order_status=reason
        )
        assert await store.record_progress(record, None) is None
        exits.append(record)
    return parent, exits[0], exits[1]


def _audit(record: TradeRecord) -> object:
    from workers.handlers.audit import audit_event

    return audit_event("trade_executed", record.request(), at=T0, retention_days=2557)


async def test_a_held_stop_loss_costs_no_lookup_while_its_take_profit_rests() -> None:
    store = MemoryTradeStore()
    _, take_profit, _stop_loss = await _bracket(store, entry="executed")
    resting = frozenset({str(take_profit.trade_id)})
    assert await find_stuck_trades(store, now=T0, older_than=timedelta(minutes=5), open_orders=resting) == []


async def test_held_exits_cost_no_lookup_while_their_entry_rests() -> None:
    store = MemoryTradeStore()
    parent, take_profit, _stop_loss = await _bracket(store, entry="working")
    entry_only = frozenset({str(parent.trade_id)})  # Alpaca lists the entry; both exits are held under it
    take_profit = msgspec.structs.replace(take_profit, order_status=HELD_REASON)
    await store.record_progress(take_profit, None)
    assert (
        await find_stuck_trades(store, now=T0, older_than=timedelta(minutes=5), open_orders=entry_only) == []
    )


async def test_once_its_take_profit_ended_unseen_both_exits_get_their_look() -> None:
    store = MemoryTradeStore()
    _, take_profit, stop_loss = await _bracket(store, entry="executed")
    found = await find_stuck_trades(store, now=T0, older_than=timedelta(minutes=5), open_orders=frozenset())
    assert {s.record.trade_id for s in found} == {take_profit.trade_id, stop_loss.trade_id}
