"""Positions in process memory, MemoryPositions: versioned, moved under their trade's audit guard."""

from __future__ import annotations

import asyncio

import msgspec

from messages.records import AuditEvent, Position
from workers.store.dynamodb.items import from_attributes, to_attributes
from workers.store.memory.audit import MemoryAuditTrail
from workers.store.memory.stored import Item, load, stored_attributes
from workers.store.port import PositionWrite
from workers.store.position_keys import from_stored, stored_symbol, to_stored
from workers.store.refusals import audit_refused_audit_write


class MemoryPositions:
    """The Positions role."""

    def __init__(self, lock: asyncio.Lock, audit: MemoryAuditTrail) -> None:
        self._lock = lock
        self._audit = audit
        self._items: dict[tuple[str, str], Item] = {}  # by (user_id, symbol)

    async def get_position(self, user_id: str, symbol: str, account: str | None = None) -> Position | None:
        async with self._lock:
            found = load(self._items.get((user_id, stored_symbol(symbol, account))), Position)
            return None if found is None else from_stored(found)

    async def list_positions(self, user_id: str) -> list[Position]:
        async with self._lock:
            keys = sorted(key for key in self._items if key[0] == user_id)
            return [from_stored(from_attributes(self._items[key], Position)) for key in keys]

    async def list_all_positions(self) -> list[Position]:
        async with self._lock:
            return [from_stored(from_attributes(self._items[key], Position)) for key in sorted(self._items)]

    async def apply_position(
        self, position: Position, expected_version: int, audit: AuditEvent
    ) -> PositionWrite:
        new_position = to_stored(msgspec.structs.replace(position, version=expected_version + 1))
        item = stored_attributes(new_position)
        audit_item = to_attributes(audit)
        key = (position.user_id, new_position.symbol)
        async with self._lock:
            applied = self._audit.exists(audit)
            if not applied:
                stored = load(self._items.get(key), Position)
                if expected_version == 0:
                    conflict = stored is not None
                else:
                    conflict = stored is None or stored.version != expected_version
                if conflict:
                    return PositionWrite.VERSION_CONFLICT
                self._items[key] = item
                self._audit.link_onto_chain([audit], [audit_item])
                return PositionWrite.APPLIED
        await audit_refused_audit_write(self._audit, "apply_position", audit)
        return PositionWrite.ALREADY_APPLIED
