"""The kill switch and the leases in process memory: MemoryKillSwitchAndLeases."""

from __future__ import annotations

import asyncio

from messages.records import ActivityEvent, KillSwitch
from workers.store.memory.activity import MemoryActivityJournal
from workers.store.memory.stored import Item, load, stored_attributes
from workers.store.port import LeaseClaim


class MemoryKillSwitchAndLeases:
    """The KillSwitchAndLeases role; a lease is kept as the time its holder's claim runs out."""

    def __init__(self, lock: asyncio.Lock, journal: MemoryActivityJournal) -> None:
        self._lock = lock
        self._journal = journal
        self._kill_switches: dict[str | None, Item] = {}  # by _scope (None: the desk's)
        self._lease_ends_ms: dict[str, int] = {}

    async def get_kill_switch(self, account: str | None = None, *, user_id: str | None = None) -> KillSwitch:
        async with self._lock:
            found = load(self._kill_switches.get(_scope(account, user_id)), KillSwitch)
            return found or KillSwitch(engaged=False, account=account, user_id=user_id)

    async def set_kill_switch(self, switch: KillSwitch, activity: ActivityEvent | None = None) -> None:
        item = stored_attributes(switch)
        async with self._lock:
            if activity is not None:
                self._journal.add_entry(activity)
            self._kill_switches[_scope(switch.account, switch.user_id)] = item

    async def claim_lease(self, name: str, *, now_ms: int, lease_ms: int) -> bool:
        return await self.claim_lease_over(name, now_ms=now_ms, lease_ms=lease_ms) is not LeaseClaim.HELD

    async def claim_lease_over(self, name: str, *, now_ms: int, lease_ms: int) -> LeaseClaim:
        async with self._lock:
            earlier = self._lease_ends_ms.get(name)
            if earlier is not None and earlier >= now_ms:
                return LeaseClaim.HELD
            self._lease_ends_ms[name] = now_ms + lease_ms
            return LeaseClaim.TAKEN if earlier is None else LeaseClaim.TAKEN_OVER

    async def release_lease(self, name: str, *, claimed_at_ms: int, lease_ms: int) -> bool:
        async with self._lock:
            if self._lease_ends_ms.get(name) != claimed_at_ms + lease_ms:
                return False
            del self._lease_ends_ms[name]
            return True


def _scope(account: str | None, user_id: str | None) -> str | None:
    return f"user#{user_id}" if user_id is not None else account
