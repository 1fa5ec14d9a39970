"""The activity journal in process memory, MemoryActivityJournal: keyed and listed as DynamoDB keeps it."""

from __future__ import annotations

import asyncio
from datetime import datetime

from messages.records import ActivityEvent, ActivityStream
from workers.store.arguments import trade_window
from workers.store.dynamodb.items import activity_key, day_sort_bounds, from_attributes, to_attributes
from workers.store.memory.stored import Item


class MemoryActivityJournal:
    """The ActivityJournal role; `add_entry` journals another role's write under the store's lock."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock
        self._entries: dict[tuple[str, str], Item] = {}  # by (partition, sort key), as on DynamoDB

    async def append_activity(self, event: ActivityEvent) -> bool:
        entry_key, item = _entry(event)
        async with self._lock:
            if entry_key in self._entries:
                return False
            self._entries[entry_key] = item
            return True

    def add_entry(self, event: ActivityEvent) -> None:
        """Add a journal entry as part of another write, as in its transaction; hold the lock."""
        entry_key, item = _entry(event)
        if entry_key in self._entries:
            raise RuntimeError(f"journal entry {event.event_id} exists already")
        self._entries[entry_key] = item

    async def list_activity(
        self, stream: ActivityStream, since: datetime, until: datetime | None = None, limit: int = 10_000
    ) -> list[ActivityEvent]:
        days, lower, upper = day_sort_bounds(*trade_window(since, until, limit))
        partitions = {f"{stream}#{day}" for day in days}
        async with self._lock:
            keys = sorted(
                (sort, partition)
                for partition, sort in self._entries
                if partition in partitions and lower <= sort <= upper
            )
            return [from_attributes(self._entries[(p, s)], ActivityEvent) for s, p in keys[:limit]]


def _entry(event: ActivityEvent) -> tuple[tuple[str, str], Item]:
    return activity_key(event.stream, event.at, event.event_id), to_attributes(event)
