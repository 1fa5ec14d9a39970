"""Changes to the desk's risk limits and alert preferences: read, change, write at the version read with the
journal entry that says who changed what, and again from a fresh read when another writer got there first."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from messages.alerts import AlertPreferences
from messages.limits import DeskLimits
from messages.records import ActivityEvent
from workers.store.port import DeskControls, StoreUnavailable

MAX_ATTEMPTS = 10
T = TypeVar("T")


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=_Versioned)


async def update_limits(
    store: DeskControls,
    change: Callable[[DeskLimits], tuple[DeskLimits, T]],
    entry: Callable[[T], ActivityEvent],
) -> T:
    """Apply `change` to the stored limits and write them with the journal `entry` of its result, retrying
    on a version conflict. Nothing is written when `change` returns the limits it was given."""
    return await _update("limits", store.get_limits, store.put_limits, change, entry)


async def update_alert_preferences(
    store: DeskControls,
    change: Callable[[AlertPreferences], tuple[AlertPreferences, T]],
    entry: Callable[[T], ActivityEvent],
) -> T:
    """As update_limits, for the alert preferences."""
    return await _update(
        "alert preferences", store.get_alert_preferences, store.put_alert_preferences, change, entry
    )


async def _update(
    what: str,
    read: Callable[[], Awaitable[V]],
    write: Callable[[V, int, ActivityEvent], Awaitable[bool]],
    change: Callable[[V], tuple[V, T]],
    entry: Callable[[T], ActivityEvent],
) -> T:
    for attempt in range(MAX_ATTEMPTS):
        current = await read()
        updated, result = change(current)
        if updated is current:
            return result
        if await write(updated, current.version, entry(result)):
            return result
        await asyncio.sleep(random.uniform(0, 0.02 * 2**attempt))  # racing writers: spread them out
    raise StoreUnavailable(f"the {what} changed under {MAX_ATTEMPTS} attempts in a row")
