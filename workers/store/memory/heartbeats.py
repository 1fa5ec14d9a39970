"""The processes' heartbeats in process memory: MemoryHeartbeats."""

from __future__ import annotations

import asyncio

from messages.records import Heartbeat
from workers.store.dynamodb.items import from_attributes
from workers.store.heartbeats_port import HEARTBEATS_KEPT_FOR
from workers.store.memory.stored import Item, stored_attributes


class MemoryHeartbeats:
    """The Heartbeats role; each heartbeat kept serialized under its process id, as DynamoDB keeps it."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock
        self._beats: dict[str, Item] = {}

    async def beat(self, heartbeat: Heartbeat) -> None:
        item = stored_attributes(heartbeat)
        oldest_kept = heartbeat.beat_at - HEARTBEATS_KEPT_FOR
        async with self._lock:
            self._beats[heartbeat.process_id] = item
            for process_id, kept in list(self._beats.items()):
                if from_attributes(kept, Heartbeat).beat_at < oldest_kept:
                    del self._beats[process_id]

    async def list_heartbeats(self) -> list[Heartbeat]:
        async with self._lock:
            return [from_attributes(self._beats[process_id], Heartbeat) for process_id in sorted(self._beats)]

    async def forget_heartbeat(self, process_id: str) -> None:
        async with self._lock:
            self._beats.pop(process_id, None)
