"""The Heartbeats role of the TradeStore port (store/port.py): which tradeflow processes are alive."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from messages.records import Heartbeat

# A heartbeat this much older than the newest one written is dropped by that write (Heartbeats.beat).
HEARTBEATS_KEPT_FOR = timedelta(days=1)


class Heartbeats(Protocol):
    """Which tradeflow processes are alive: each one's last heartbeat, all of them kept as one small item.

    Each process writes only its own entry, so no writer reads, merges or races another's.
    """

    async def beat(self, heartbeat: Heartbeat) -> None:
        """Replace the process's heartbeat (its `process_id`'s) with this one.

        The same write drops every heartbeat whose `beat_at` is more than HEARTBEATS_KEPT_FOR before this
        one's: a process that died without a word is forgotten within a day of the others' beats, and the
        entries stay few.
        """

    async def list_heartbeats(self) -> list[Heartbeat]:
        """Every heartbeat kept, by process id, read consistently; the reader judges each one's age."""

    async def forget_heartbeat(self, process_id: str) -> None:
        """Drop the process's heartbeat (it is stopping cleanly); nothing happens when there is none."""
