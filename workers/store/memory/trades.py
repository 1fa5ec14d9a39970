"""Trade records in process memory, MemoryTradeRecords: each trade's item, written with its audit items."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Sequence

from messages.records import AuditEvent, TradeRecord
from messages.types import SETTLEABLE_STATUSES
from workers.store.arguments import check_decided
from workers.store.dynamodb.items import to_attributes
from workers.store.memory.audit import MemoryAuditTrail
from workers.store.memory.positions import MemoryPositions
from workers.store.memory.stored import Item, load_trade, stored_trade
from workers.store.port import TradeReading
from workers.store.refusals import audit_refused_trade_write


class MemoryTradeRecords:
    """The TradeRecords role, on the trade items it shares with MemoryTradeQueries."""

    def __init__(
        self,
        lock: asyncio.Lock,
        trades: dict[uuid.UUID, Item],
        audit: MemoryAuditTrail,
        positions: MemoryPositions,
    ) -> None:
        self._lock = lock
        self._trades = trades
        self._audit = audit
        self._positions = positions

    async def get_trade(self, trade_id: uuid.UUID) -> TradeRecord | None:
        async with self._lock:
            return load_trade(self._trades.get(trade_id))

    async def read_trade(
        self,
        trade_id: uuid.UUID,
        *,
        audit_keys: Collection[str] = (),
        position: tuple[str, str, str | None] | None = None,
    ) -> TradeReading:
        events = {key: await self._audit.get_audit(trade_id, key) for key in audit_keys}
        return TradeReading(
            trade=await self.get_trade(trade_id),
            audit={key: event for key, event in events.items() if event is not None},
            position=None if position is None else await self._positions.get_position(*position),
        )

    async def put_new_trade(self, record: TradeRecord, audit: Sequence[AuditEvent]) -> TradeRecord | None:
        item = stored_trade(record)
        audit_items = [to_attributes(event) for event in audit]
        if len({(event.trade_id, event.event_key) for event in audit}) != len(audit):
            raise ValueError("put_new_trade got two audit events with the same (trade_id, event_key)")
        async with self._lock:
            stored = load_trade(self._trades.get(record.trade_id))
            if stored is None:
                for event in audit:
                    if self._audit.exists(event):
                        raise RuntimeError(
                            f"audit {event.event_key!r} exists for trade {event.trade_id}, the trade does not"
                        )
                self._trades[record.trade_id] = item
                self._audit.link_onto_chain(audit, audit_items)
                return None
        await audit_refused_trade_write(self._audit, "put_new_trade", stored, record)
        return stored

    async def record_outcome(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        if not record.is_terminal:
            raise ValueError(f"record_outcome needs a terminal record, got status {record.status!r}")
        item = stored_trade(record)
        audit_item = to_attributes(audit)
        async with self._lock:
            current = self._existing_trade(record.trade_id)
            if current.status in SETTLEABLE_STATUSES:
                if self._audit.exists(audit):
                    raise RuntimeError(
                        f"trade {record.trade_id} is open but its audit {audit.event_key!r} exists"
                    )
                self._trades[record.trade_id] = item
                self._audit.link_onto_chain([audit], [audit_item])
                return None
        await audit_refused_trade_write(self._audit, "record_outcome", current, record)
        return current

    async def record_progress(self, record: TradeRecord, audit: AuditEvent | None) -> TradeRecord | None:
        if not record.is_open:
            raise ValueError(f"record_progress needs an open record, got status {record.status!r}")
        item = stored_trade(record)
        # An existing audit item is a redelivery's, or an earlier progress in the same state: kept.
        events = [] if audit is None else [audit]
        audit_items = [to_attributes(event) for event in events]
        async with self._lock:
            current = self._existing_trade(record.trade_id)
            if current.status in SETTLEABLE_STATUSES:
                self._trades[record.trade_id] = item
                if events and not self._audit.exists(events[0]):
                    self._audit.link_onto_chain(events, audit_items)
                return None
        await audit_refused_trade_write(self._audit, "record_progress", current, record)
        return current

    async def decide_approval(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        check_decided(record)
        item = stored_trade(record)
        audit_item = to_attributes(audit)
        async with self._lock:
            current = self._existing_trade(record.trade_id)
            if current.status == "awaiting_approval":
                if self._audit.exists(audit):
                    raise RuntimeError(
                        f"trade {record.trade_id} awaits approval but its audit {audit.event_key!r} exists"
                    )
                self._trades[record.trade_id] = item
                self._audit.link_onto_chain([audit], [audit_item])
                return None
        await audit_refused_trade_write(self._audit, "decide_approval", current, record)
        return current

    def _existing_trade(self, trade_id: uuid.UUID) -> TradeRecord:
        """The stored trade; KeyError when absent. Call with the lock held."""
        stored = load_trade(self._trades.get(trade_id))
        if stored is None:
            raise KeyError(trade_id)
        return stored
