"""The roster and the activity journal in process memory, kept as DynamoDB keeps them (MemoryTradeStore's)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import msgspec

from messages.records import ActivityEvent, ActivityStream, Roster
from workers.store.dynamodb.items import activity_key, day_sort_bounds, from_attributes, to_attributes
from workers.store.port import trade_window


class MemoryAccessItems:
    """Items are kept serialized, so what the memory store accepts DynamoDB accepts too."""

    _lock: asyncio.Lock
    _roster: dict[str, Any] | None
    _activity: dict[tuple[str, str], dict[str, Any]]

    async def get_roster(self) -> Roster:
        async with self._lock:
            return Roster() if self._roster is None else from_attributes(self._roster, Roster)

    async def put_roster(
        self, roster: Roster, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        item = to_attributes(msgspec.structs.replace(roster, version=expected_version + 1))
        async with self._lock:
            stored = 0 if self._roster is None else int(self._roster["version"]["N"])
            if stored != expected_version:
                return False
            if activity is not None:
                self._append_entry(activity)
            self._roster = item
            return True

    def _append_entry(self, event: ActivityEvent) -> None:
        """Add a journal entry as part of a transaction; call with the lock held."""
        entry_key, item = _entry(event)
        if entry_key in self._activity:
            raise RuntimeError(f"journal entry {event.event_id} exists already")
        self._activity[entry_key] = item

    async def append_activity(self, event: ActivityEvent) -> bool:
        entry_key, item = _entry(event)
        async with self._lock:
            if entry_key in self._activity:
                return False
            self._activity[entry_key] = item
            return True

    async def list_activity(
        self, stream: ActivityStream, since: datetime, until: datetime | None = None, limit: int = 10_000
    ) -> list[ActivityEvent]:
        days, lower, upper = day_sort_bounds(*trade_window(since, until, limit))
        partitions = {f"{stream}#{day}" for day in days}
        async with self._lock:
            keys = sorted(
                (sort, partition)
                for partition, sort in self._activity
                if partition in partitions and lower <= sort <= upper
            )
            return [from_attributes(self._activity[(p, s)], ActivityEvent) for s, p in keys[:limit]]


def _entry(event: ActivityEvent) -> tuple[tuple[str, str], dict[str, Any]]:
    return activity_key(event.stream, event.at, event.event_id), to_attributes(event)
