"""The audit trail in process memory, MemoryAuditTrail: the hash chain and the refusals DynamoDB's has."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from messages.records import AuditEvent
from workers.store.audit_chain import CHAIN_HEAD_KEY, GENESIS, AuditChain, head_item, head_of, link
from workers.store.dynamodb.items import from_attributes, to_attributes
from workers.store.memory.stored import Item, as_stored
from workers.store.refusals import audit_refused_audit_write


class MemoryAuditTrail:
    """The AuditTrail role: each trade's audit items, its chain head among them, kept serialized.

    `exists` and `link_onto_chain` serve the other roles' writes that carry audit items, under the lock.
    """

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock
        self._items: dict[uuid.UUID, dict[str, Item]] = {}  # by trade id, then event key

    async def append_audit(self, event: AuditEvent) -> bool:
        attributes = [to_attributes(event)]
        async with self._lock:
            written = not self.exists(event)
            if written:
                self.link_onto_chain([event], attributes)
        if not written:
            await audit_refused_audit_write(self, "append_audit", event)
        return written

    async def get_audit(self, trade_id: uuid.UUID, event_key: str) -> AuditEvent | None:
        async with self._lock:
            item = self._items.get(trade_id, {}).get(event_key)
            return None if item is None or event_key == CHAIN_HEAD_KEY else from_attributes(item, AuditEvent)

    async def list_audit(self, trade_id: uuid.UUID) -> list[AuditEvent]:
        async with self._lock:
            events = self._items.get(trade_id, {})
            keys = sorted(key for key in events if key != CHAIN_HEAD_KEY)
            return [from_attributes(events[key], AuditEvent) for key in keys]

    async def read_audit_chain(self, trade_id: uuid.UUID) -> AuditChain:
        async with self._lock:
            events = dict(self._items.get(trade_id, {}))
        head = events.pop(CHAIN_HEAD_KEY, None)
        return AuditChain(items=[events[key] for key in sorted(events)], head=head)

    def link_onto_chain(self, events: Sequence[AuditEvent], attributes: Sequence[Item]) -> None:
        """Put the events as the next links of their trade's chain and advance its head; hold the lock."""
        if not events:
            return
        trade_id = events[0].trade_id
        partition = self._items.setdefault(trade_id, {})
        linked, after = link(attributes, head_of(partition.get(CHAIN_HEAD_KEY)) or GENESIS)
        for event, item in zip(events, linked, strict=True):
            partition[event.event_key] = as_stored(item)
        expires_at = max(event.expires_at for event in events)
        partition[CHAIN_HEAD_KEY] = head_item(str(trade_id), after, expires_at)

    def exists(self, event: AuditEvent) -> bool:
        """Whether the event's (trade_id, event_key) is stored; hold the lock."""
        return event.event_key in self._items.get(event.trade_id, {})
