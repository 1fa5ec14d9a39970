"""The activity journal: what operators, admins and Slack users did outside a trade's own trail, and every
refusal, as append-only entries kept as long as the trade audit (seven years by default).

Refused requests are counted, not written one by one (RefusalTally): anyone can send them, as fast as they
like, and each write costs a DynamoDB request on a partition shared by the whole day's journal.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from messages.records import ActivityEvent, ActivityStream
from workers.handlers.audit import expires_at
from workers.handlers.deps import utc_now
from workers.store.port import TradeStore


class Journal:
    """Builds journal entries stamped now, with their retention, and appends them to the store."""

    def __init__(
        self, store: TradeStore, retention_days: int, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.store = store
        self.retention_days = retention_days
        self.clock = clock

    def entry(self, stream: ActivityStream, event_type: str, actor: str, **details: Any) -> ActivityEvent:
        """An entry stamped now; `details` are facts, never a secret (floats are kept as exact decimals)."""
        at = self.clock()
        return ActivityEvent(
            stream=stream,
            event_type=event_type,
            actor=actor,
            at=at,
            event_id=uuid.uuid4(),
            details={name: _storable(value) for name, value in details.items() if value is not None},
            expires_at=expires_at(at, self.retention_days),
        )

    async def record(
        self, stream: ActivityStream, event_type: str, actor: str, **details: Any
    ) -> ActivityEvent:
        """Append an entry stamped now and return it."""
        event = self.entry(stream, event_type, actor, **details)
        await self.append(event)
        return event

    async def append(self, event: ActivityEvent) -> None:
        """Append an entry made earlier (`entry`), keeping the moment it was stamped."""
        await self.store.append_activity(event)


def _storable(value: Any) -> Any:
    # DynamoDB refuses floats (store/dynamodb/items.py): a float detail becomes the decimal it prints as.
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {name: _storable(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


OTHER = "(other)"  # the source and reason of refusals past a window's bound on distinct keys


@dataclass
class _Count:
    repeated: int = 0


class RefusalTally:
    """Refused requests counted per (event type, source, reason) per window of `window_s` seconds.

    The first refusal of a key in a window is journaled at once, with its details; the ones after it are
    counted and journaled as one summary (`repeated`: how many more) when the window closes. A window holds
    at most `max_keys` keys; further sources and reasons are counted together under OTHER. So a window costs
    at most 2 × (max_keys + 1) writes, however many requests are refused.
    """

    def __init__(
        self,
        journal: Journal,
        *,
        window_s: int = 60,
        max_keys: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.journal = journal
        self.window_s = window_s
        self.max_keys = max_keys
        self.clock = clock
        self._window: int | None = None
        self._counts: dict[tuple[str, str, str], _Count] = {}

    def count(self, event_type: str, source: str | None, reason: str, **details: Any) -> list[ActivityEvent]:
        """Count one refusal; the entries to journal now (a closed window's summaries, this key's first)."""
        window = int(self.clock() // self.window_s)
        written = self.close_window() if self._window not in (None, window) else []
        self._window = window
        key = (event_type, source or "", reason)
        if key not in self._counts and len(self._counts) >= self.max_keys:
            key = (event_type, OTHER, OTHER)
        counted = self._counts.get(key)
        if counted is not None:
            counted.repeated += 1
            return written
        self._counts[key] = _Count()
        first = self.journal.entry("access", event_type, "", source_address=key[1], reason=key[2], **details)
        return [*written, first]

    def close_window(self) -> list[ActivityEvent]:
        """End the current window: a summary for each key refused more than once in it."""
        window, counts = self._window, self._counts
        self._window, self._counts = None, {}
        if window is None:
            return []
        started = datetime.fromtimestamp(window * self.window_s, UTC).isoformat()
        return [
            self.journal.entry(
                "access",
                event_type,
                "",
                source_address=source,
                reason=reason,
                repeated=counted.repeated,
                window_start=started,
                window_s=self.window_s,
            )
            for (event_type, source, reason), counted in counts.items()
            if counted.repeated
        ]

    def close_if_ended(self) -> list[ActivityEvent]:
        """`close_window`, once the clock has left the current window; nothing before. A timer may wake a
        little early (or late, after `count` already closed that window and opened the next): closing a
        window still under way would journal its key's first refusal twice."""
        if self._window is not None and int(self.clock() // self.window_s) == self._window:
            return []
        return self.close_window()

    def seconds_left(self) -> float:
        """Until the current window closes (0 when none is open)."""
        if self._window is None:
            return 0.0
        return max(0.0, (self._window + 1) * self.window_s - self.clock())

    @property
    def pending(self) -> bool:
        """Whether the current window holds refusals not journaled yet."""
        return any(counted.repeated for counted in self._counts.values())
