"""MemoryTradeStore: the TradeStore port in process memory, with DynamoDB's conditions, for unit tests."""

from __future__ import annotations

import asyncio
import uuid

from workers.store.composed import ComposedTradeStore
from workers.store.memory.activity import MemoryActivityJournal
from workers.store.memory.audit import MemoryAuditTrail
from workers.store.memory.control import MemoryKillSwitchAndLeases
from workers.store.memory.desk_controls import MemoryDeskControls
from workers.store.memory.heartbeats import MemoryHeartbeats
from workers.store.memory.positions import MemoryPositions
from workers.store.memory.queries import MemoryTradeQueries
from workers.store.memory.roster import MemoryRoster
from workers.store.memory.stored import Item
from workers.store.memory.trades import MemoryTradeRecords


class MemoryTradeStore(ComposedTradeStore):
    """Keeps items as DynamoDB would (serialized, so floats are refused and Decimals stay exact).

    One lock, shared by every role, makes every method atomic, as a DynamoDB transaction is.
    """

    def __init__(self) -> None:
        lock = asyncio.Lock()
        trades: dict[uuid.UUID, Item] = {}  # one table: written by the records, read by the queries
        audit = MemoryAuditTrail(lock)
        journal = MemoryActivityJournal(lock)
        positions = MemoryPositions(lock, audit)
        super().__init__(
            records=MemoryTradeRecords(lock, trades, audit, positions),
            queries=MemoryTradeQueries(lock, trades),
            positions=positions,
            audit=audit,
            controls=MemoryKillSwitchAndLeases(lock, journal),
            roster=MemoryRoster(lock, journal),
            journal=journal,
            heartbeats=MemoryHeartbeats(lock),
            desk_controls=MemoryDeskControls(lock, journal),
        )

    async def create_tables(self) -> None:
        return None

    async def close(self) -> None:
        return None
