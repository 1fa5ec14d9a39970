"""MemoryTradeStore: the TradeStore port in process memory, with DynamoDB's conditions, for unit tests."""

from __future__ import annotations

import asyncio
import heapq
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from messages.records import ActivityEvent, AuditEvent, KillSwitch, Position, TradeRecord
from workers.store.dynamodb.items import (
    day_sort_bounds,
    from_attributes,
    to_attributes,
    trade_attributes,
    trade_from_attributes,
)
from workers.store.dynamodb.tables import (
    DAY_SORT_ATTRIBUTE,
    OPEN_SORT_ATTRIBUTE,
    OPEN_STATUS_ATTRIBUTE,
    TRADE_DAY_ATTRIBUTE,
    USER_SORT_ATTRIBUTE,
)
from workers.store.memory.access import MemoryAccessItems
from workers.store.memory.audit import MemoryChainedAudit
from workers.store.port import (
    LeaseClaim,
    PositionWrite,
    TradeReading,
    check_limit,
    open_statuses_to_list,
    trade_window,
)

T = TypeVar("T")

_Item = dict[str, Any]


class MemoryTradeStore(MemoryAccessItems, MemoryChainedAudit):
    """Keeps items as DynamoDB would (serialized, so floats are refused and Decimals stay exact).

    One lock makes every method atomic, as a DynamoDB transaction is.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._trades: dict[uuid.UUID, _Item] = {}
        self._positions: dict[tuple[str, str], _Item] = {}
        self._audit: dict[uuid.UUID, dict[str, _Item]] = {}
        self._kill_switch: _Item | None = None
        self._leases: dict[str, int] = {}
        self._roster: _Item | None = None
        self._activity: dict[tuple[str, str], _Item] = {}

    async def create_tables(self) -> None:
        return None

    async def get_trade(self, trade_id: uuid.UUID) -> TradeRecord | None:
        async with self._lock:
            return _load_trade(self._trades.get(trade_id))

    async def read_trade(
        self,
        trade_id: uuid.UUID,
        *,
        audit_keys: Collection[str] = (),
        position: tuple[str, str] | None = None,
    ) -> TradeReading:
        events = {key: await self.get_audit(trade_id, key) for key in audit_keys}
        return TradeReading(
            trade=await self.get_trade(trade_id),
            audit={key: event for key, event in events.items() if event is not None},
            position=None if position is None else await self.get_position(*position),
        )

    async def put_new_trade(self, record: TradeRecord, audit: Sequence[AuditEvent]) -> TradeRecord | None:
        item = _stored_trade(record)
        audit_items = [to_attributes(event) for event in audit]
        if len({(event.trade_id, event.event_key) for event in audit}) != len(audit):
            raise ValueError("put_new_trade got two audit events with the same (trade_id, event_key)")
        async with self._lock:
            stored = _load_trade(self._trades.get(record.trade_id))
            if stored is None:
                for event in audit:
                    if self._audit_exists(event):
                        raise RuntimeError(
                            f"audit {event.event_key!r} exists for trade {event.trade_id}, the trade does not"
                        )
                self._trades[record.trade_id] = item
                self._link(audit, audit_items)
                return None
        await self._refuse_trade_change("put_new_trade", stored, record)
        return stored

    async def record_outcome(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        if not record.is_terminal:
            raise ValueError(f"record_outcome needs a terminal record, got status {record.status!r}")
        item = _stored_trade(record)
        audit_item = to_attributes(audit)
        async with self._lock:
            current = self._existing_trade(record.trade_id)
            if not current.is_terminal:
                if self._audit_exists(audit):
                    raise RuntimeError(
                        f"trade {record.trade_id} is open but its audit {audit.event_key!r} exists"
                    )
                self._trades[record.trade_id] = item
                self._link([audit], [audit_item])
                return None
        await self._refuse_trade_change("record_outcome", current, record)
        return current

    async def record_progress(self, record: TradeRecord, audit: AuditEvent | None) -> TradeRecord | None:
        if not record.is_open:
            raise ValueError(f"record_progress needs an open record, got status {record.status!r}")
        item = _stored_trade(record)
        # An existing audit item is a redelivery's, or an earlier progress in the same state: kept.
        events = [] if audit is None else [audit]
        audit_items = [to_attributes(event) for event in events]
        async with self._lock:
            current = self._existing_trade(record.trade_id)
            if not current.is_terminal:
                self._trades[record.trade_id] = item
                if events and not self._audit_exists(events[0]):
                    self._link(events, audit_items)
                return None
        await self._refuse_trade_change("record_progress", current, record)
        return current

    async def list_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), limit: int = 500
    ) -> list[TradeRecord]:
        wanted = open_statuses_to_list(statuses, limit)
        async with self._lock:
            items = [
                item
                for item in self._trades.values()
                if item.get(OPEN_STATUS_ATTRIBUTE, {}).get("S") in wanted
            ]
        items.sort(key=lambda item: str(item[OPEN_SORT_ATTRIBUTE]["S"]))
        return [trade_from_attributes(item) for item in items[:limit]]

    async def list_user_trades(self, user_id: str, limit: int = 10) -> list[TradeRecord]:
        check_limit(limit)
        async with self._lock:
            items = [item for item in self._trades.values() if item["user_id"]["S"] == user_id]
        items.sort(key=lambda item: str(item[USER_SORT_ATTRIBUTE]["S"]), reverse=True)
        return [trade_from_attributes(item) for item in items[:limit]]

    async def list_trades_since(
        self, since: datetime, until: datetime | None = None, limit: int = 100_000
    ) -> list[TradeRecord]:
        days, lower, upper = day_sort_bounds(*trade_window(since, until, limit))
        wanted = set(days)
        async with self._lock:
            items = [
                item
                for item in self._trades.values()
                if item.get(TRADE_DAY_ATTRIBUTE, {}).get("S") in wanted
                and lower <= item[DAY_SORT_ATTRIBUTE]["S"] <= upper
            ]
        items.sort(key=lambda item: str(item[DAY_SORT_ATTRIBUTE]["S"]))
        return [trade_from_attributes(item) for item in items[:limit]]

    async def iter_trades(
        self, since: datetime, until: datetime | None = None, *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        days, lower, upper = day_sort_bounds(*trade_window(since, until, page_size))
        wanted = set(days)
        after = ""  # the sort key of the last trade yielded; every key sorts after ""
        while True:
            # Each page is a fresh read under the lock, resuming after the last key, as a Query page does.
            async with self._lock:
                page = heapq.nsmallest(
                    page_size,
                    (
                        item
                        for item in self._trades.values()
                        if item.get(TRADE_DAY_ATTRIBUTE, {}).get("S") in wanted
                        and lower <= item[DAY_SORT_ATTRIBUTE]["S"] <= upper
                        and item[DAY_SORT_ATTRIBUTE]["S"] > after
                    ),
                    key=lambda item: str(item[DAY_SORT_ATTRIBUTE]["S"]),
                )
            for item in page:
                yield trade_from_attributes(item)
            if len(page) < page_size:
                return
            after = page[-1][DAY_SORT_ATTRIBUTE]["S"]

    async def get_position(self, user_id: str, symbol: str) -> Position | None:
        async with self._lock:
            return _load(self._positions.get((user_id, symbol)), Position)

    async def list_positions(self, user_id: str) -> list[Position]:
        async with self._lock:
            keys = sorted(key for key in self._positions if key[0] == user_id)
            return [from_attributes(self._positions[key], Position) for key in keys]

    async def apply_position(
        self, position: Position, expected_version: int, audit: AuditEvent
    ) -> PositionWrite:
        new_position = msgspec.structs.replace(position, version=expected_version + 1)
        item = _stored_attributes(new_position)
        audit_item = to_attributes(audit)
        key = (position.user_id, position.symbol)
        async with self._lock:
            applied = self._audit_exists(audit)
            if not applied:
                stored = _load(self._positions.get(key), Position)
                if expected_version == 0:
                    conflict = stored is not None
                else:
                    conflict = stored is None or stored.version != expected_version
                if conflict:
                    return PositionWrite.VERSION_CONFLICT
                self._positions[key] = item
                self._link([audit], [audit_item])
                return PositionWrite.APPLIED
        await self._refuse_audit_change("apply_position", audit)
        return PositionWrite.ALREADY_APPLIED

    async def get_kill_switch(self) -> KillSwitch:
        async with self._lock:
            return _load(self._kill_switch, KillSwitch) or KillSwitch(engaged=False)

    async def set_kill_switch(self, switch: KillSwitch, activity: ActivityEvent | None = None) -> None:
        item = _stored_attributes(switch)
        async with self._lock:
            if activity is not None:
                self._append_entry(activity)
            self._kill_switch = item

    async def claim_lease(self, name: str, *, now_ms: int, lease_ms: int) -> bool:
        return await self.claim_lease_over(name, now_ms=now_ms, lease_ms=lease_ms) is not LeaseClaim.HELD

    async def claim_lease_over(self, name: str, *, now_ms: int, lease_ms: int) -> LeaseClaim:
        async with self._lock:
            earlier = self._leases.get(name)
            if earlier is not None and earlier >= now_ms:
                return LeaseClaim.HELD
            self._leases[name] = now_ms + lease_ms
            return LeaseClaim.TAKEN if earlier is None else LeaseClaim.TAKEN_OVER

    async def release_lease(self, name: str, *, claimed_at_ms: int, lease_ms: int) -> bool:
        async with self._lock:
            if self._leases.get(name) != claimed_at_ms + lease_ms:
                return False
            del self._leases[name]
            return True

    async def close(self) -> None:
        return None

    def _existing_trade(self, trade_id: uuid.UUID) -> TradeRecord:
        """The stored trade; KeyError when absent. Call with the lock held."""
        stored = _load_trade(self._trades.get(trade_id))
        if stored is None:
            raise KeyError(trade_id)
        return stored

    def _as_stored(self, item: _Item) -> _Item:
        return {name: _normalize(value) for name, value in item.items()}


def _stored_attributes(record: msgspec.Struct) -> _Item:
    """Serialize as DynamoDB stores it: numbers lose trailing zeros ("1.50" reads back as "1.5")."""
    return {name: _normalize(value) for name, value in to_attributes(record).items()}


def _stored_trade(record: TradeRecord) -> _Item:
    """The trade item as DynamoTradeStore writes it, open-trades index keys included."""
    return {name: _normalize(value) for name, value in trade_attributes(record).items()}


def _load_trade(item: _Item | None) -> TradeRecord | None:
    return None if item is None else trade_from_attributes(item)


def _normalize(value: Any) -> Any:
    if "N" in value:
        number = Decimal(value["N"]).normalize()
        return {"N": "0" if number.is_zero() else format(number, "f")}
    if "L" in value:
        return {"L": [_normalize(element) for element in value["L"]]}
    if "M" in value:
        return {"M": {name: _normalize(element) for name, element in value["M"].items()}}
    return value


def _load(item: _Item | None, kind: type[T]) -> T | None:
    return None if item is None else from_attributes(item, kind)
