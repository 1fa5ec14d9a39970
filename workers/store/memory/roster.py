"""The roster in process memory, MemoryRoster: one versioned item, written with its journal entry."""

from __future__ import annotations

import asyncio

import msgspec

from messages.records import ActivityEvent, Roster
from workers.store.dynamodb.items import from_attributes, to_attributes
from workers.store.memory.activity import MemoryActivityJournal
from workers.store.memory.stored import Item


class MemoryRoster:
    """The RosterStore role."""

    def __init__(self, lock: asyncio.Lock, journal: MemoryActivityJournal) -> None:
        self._lock = lock
        self._journal = journal
        self._item: Item | None = None

    async def get_roster(self) -> Roster:
        async with self._lock:
            return Roster() if self._item is None else from_attributes(self._item, Roster)

    async def put_roster(
        self, roster: Roster, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        item = to_attributes(msgspec.structs.replace(roster, version=expected_version + 1))
        async with self._lock:
            stored = 0 if self._item is None else int(self._item["version"]["N"])
            if stored != expected_version:
                return False
            if activity is not None:
                self._journal.add_entry(activity)
            self._item = item
            return True
