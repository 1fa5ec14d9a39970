"""The desk's limits, alert preferences and once-markers in process memory: MemoryDeskControls.

Each of the two items is kept serialized and versioned as DynamoDB keeps it, and written with its journal
entry under the store's lock, as in one transaction.
"""

from __future__ import annotations

import asyncio

import msgspec

from messages.alerts import AlertPreferences
from messages.limits import DeskLimits
from messages.records import ActivityEvent
from workers.store.dynamodb.desk_controls import limits_from_attributes, marker_key
from workers.store.memory.activity import MemoryActivityJournal
from workers.store.memory.stored import Item, load, stored_attributes


class MemoryDeskControls:
    """The DeskControls role; a marker is kept as its expiry (TTL is DynamoDB's, so nothing expires here)."""

    def __init__(self, lock: asyncio.Lock, journal: MemoryActivityJournal) -> None:
        self._lock = lock
        self._journal = journal
        self._limits: Item | None = None
        self._preferences: Item | None = None
        self._markers: dict[str, int] = {}

    async def get_limits(self) -> DeskLimits:
        async with self._lock:
            return DeskLimits() if self._limits is None else limits_from_attributes(self._limits)

    async def put_limits(
        self, limits: DeskLimits, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        item = stored_attributes(msgspec.structs.replace(limits, version=expected_version + 1))
        async with self._lock:
            if _version(self._limits) != expected_version:
                return False
            if activity is not None:
                self._journal.add_entry(activity)
            self._limits = item
            return True

    async def get_alert_preferences(self) -> AlertPreferences:
        async with self._lock:
            return load(self._preferences, AlertPreferences) or AlertPreferences()

    async def put_alert_preferences(
        self, preferences: AlertPreferences, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        item = stored_attributes(msgspec.structs.replace(preferences, version=expected_version + 1))
        async with self._lock:
            if _version(self._preferences) != expected_version:
                return False
            if activity is not None:
                self._journal.add_entry(activity)
            self._preferences = item
            return True

    async def mark_done(self, name: str, *, expires_at: int) -> bool:
        marker = marker_key(name)
        async with self._lock:
            if marker in self._markers:
                return False
            self._markers[marker] = expires_at
            return True

    async def is_done(self, name: str) -> bool:
        marker = marker_key(name)
        async with self._lock:
            return marker in self._markers


def _version(item: Item | None) -> int:
    return 0 if item is None else int(item["version"]["N"])
