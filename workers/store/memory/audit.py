"""The audit trail in process memory (a mixin of MemoryTradeStore): the chain and refusals DynamoDB's has."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from messages.records import AuditEvent
from workers.store.audit_chain import CHAIN_HEAD_KEY, GENESIS, AuditChain, head_item, head_of, link
from workers.store.dynamodb.items import from_attributes, to_attributes
from workers.store.refusals import AuditsRefusals

_Item = dict[str, Any]


class MemoryChainedAudit(AuditsRefusals):
    """Each trade's audit items, its chain head among them, kept serialized under the store's one lock."""

    _lock: asyncio.Lock
    _audit: dict[uuid.UUID, dict[str, _Item]]

    def _as_stored(self, item: _Item) -> _Item:
        raise NotImplementedError  # MemoryTradeStore: numbers as DynamoDB keeps them

    async def append_audit(self, event: AuditEvent) -> bool:
        attributes = [to_attributes(event)]
        async with self._lock:
            written = not self._audit_exists(event)
            if written:
                self._link([event], attributes)
        if not written:
            await self._refuse_audit_change("append_audit", event)
        return written

    async def get_audit(self, trade_id: uuid.UUID, event_key: str) -> AuditEvent | None:
        async with self._lock:
            item = self._audit.get(trade_id, {}).get(event_key)
            return None if item is None or event_key == CHAIN_HEAD_KEY else from_attributes(item, AuditEvent)

    async def list_audit(self, trade_id: uuid.UUID) -> list[AuditEvent]:
        async with self._lock:
            events = self._audit.get(trade_id, {})
            keys = sorted(key for key in events if key != CHAIN_HEAD_KEY)
            return [from_attributes(events[key], AuditEvent) for key in keys]

    async def read_audit_chain(self, trade_id: uuid.UUID) -> AuditChain:
        async with self._lock:
            events = dict(self._audit.get(trade_id, {}))
        head = events.pop(CHAIN_HEAD_KEY, None)
        return AuditChain(items=[events[key] for key in sorted(events)], head=head)

    def _link(self, events: Sequence[AuditEvent], attributes: Sequence[_Item]) -> None:
        """Put the events as the next links of their trade's chain and advance its head; hold the lock."""
        if not events:
            return
        trade_id = events[0].trade_id
        partition = self._audit.setdefault(trade_id, {})
        linked, after = link(attributes, head_of(partition.get(CHAIN_HEAD_KEY)) or GENESIS)
        for event, item in zip(events, linked, strict=True):
            partition[event.event_key] = self._as_stored(item)
        expires_at = max(event.expires_at for event in events)
        partition[CHAIN_HEAD_KEY] = head_item(str(trade_id), after, expires_at)

    def _audit_exists(self, event: AuditEvent) -> bool:
        return event.event_key in self._audit.get(event.trade_id, {})
