"""The activity journal: what operators, admins and Slack users did outside a trade's own trail, and every
refusal, as append-only entries kept as long as the trade audit (seven years by default)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
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
