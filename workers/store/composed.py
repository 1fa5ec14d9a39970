"""ComposedTradeStore: the TradeStore methods of every role, each handed to the object that plays that role.

Both stores are made of one object per role (store/port.py) and inherit this forwarding; each adds the
`create_tables` and `close` of its own tables. The methods are written out, not forwarded by `__getattr__`,
so that mypy checks each against its role and a test's subclass can override one and call `super()`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime

from messages.alerts import AlertPreferences
from messages.limits import DeskLimits
from messages.records import (
    ActivityEvent,
    ActivityStream,
    AuditEvent,
    Heartbeat,
    KillSwitch,
    Position,
    Roster,
    TradeRecord,
)
from workers.store.audit_chain import AuditChain
from workers.store.port import (
    ActivityJournal,
    AuditTrail,
    DeskControls,
    Heartbeats,
    KillSwitchAndLeases,
    LeaseClaim,
    Positions,
    PositionWrite,
    RosterStore,
    TradeQueries,
    TradeReading,
    TradeRecords,
)


class ComposedTradeStore:
    """Every role's methods, forwarded to the object given for that role; see store/port.py for each."""

    def __init__(
        self,
        *,
        records: TradeRecords,
        queries: TradeQueries,
        positions: Positions,
        audit: AuditTrail,
        controls: KillSwitchAndLeases,
        roster: RosterStore,
        journal: ActivityJournal,
        heartbeats: Heartbeats,
        desk_controls: DeskControls,
    ) -> None:
        self._records = records
        self._queries = queries
        self._positions = positions
        self._audit = audit
        self._controls = controls
        self._roster = roster
        self._journal = journal
        self._heartbeats = heartbeats
        self._desk_controls = desk_controls

    # TradeRecords

    async def get_trade(self, trade_id: uuid.UUID) -> TradeRecord | None:
        return await self._records.get_trade(trade_id)

    async def read_trade(
        self,
        trade_id: uuid.UUID,
        *,
        audit_keys: Collection[str] = (),
        position: tuple[str, str, str | None] | None = None,
    ) -> TradeReading:
        return await self._records.read_trade(trade_id, audit_keys=audit_keys, position=position)

    async def put_new_trade(self, record: TradeRecord, audit: Sequence[AuditEvent]) -> TradeRecord | None:
        return await self._records.put_new_trade(record, audit)

    async def record_outcome(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        return await self._records.record_outcome(record, audit)

    async def record_progress(self, record: TradeRecord, audit: AuditEvent | None) -> TradeRecord | None:
        return await self._records.record_progress(record, audit)

    async def decide_approval(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        return await self._records.decide_approval(record, audit)

    # TradeQueries

    async def list_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), limit: int = 500
    ) -> list[TradeRecord]:
        return await self._queries.list_open_trades(statuses, limit)

    def iter_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        return self._queries.iter_open_trades(statuses, page_size=page_size)

    async def list_user_trades(self, user_id: str, limit: int = 10) -> list[TradeRecord]:
        return await self._queries.list_user_trades(user_id, limit)

    async def list_trades_since(
        self, since: datetime, until: datetime | None = None, limit: int = 100_000
    ) -> list[TradeRecord]:
        return await self._queries.list_trades_since(since, until, limit)

    def iter_trades(
        self, since: datetime, until: datetime | None = None, *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        return self._queries.iter_trades(since, until, page_size=page_size)

    # Positions

    async def get_position(self, user_id: str, symbol: str, account: str | None = None) -> Position | None:
        return await self._positions.get_position(user_id, symbol, account)

    async def list_positions(self, user_id: str) -> list[Position]:
        return await self._positions.list_positions(user_id)

    async def list_all_positions(self) -> list[Position]:
        return await self._positions.list_all_positions()

    async def apply_position(
        self, position: Position, expected_version: int, audit: AuditEvent
    ) -> PositionWrite:
        return await self._positions.apply_position(position, expected_version, audit)

    # AuditTrail

    async def append_audit(self, event: AuditEvent) -> bool:
        return await self._audit.append_audit(event)

    async def read_audit_chain(self, trade_id: uuid.UUID) -> AuditChain:
        return await self._audit.read_audit_chain(trade_id)

    async def get_audit(self, trade_id: uuid.UUID, event_key: str) -> AuditEvent | None:
        return await self._audit.get_audit(trade_id, event_key)

    async def list_audit(self, trade_id: uuid.UUID) -> list[AuditEvent]:
        return await self._audit.list_audit(trade_id)

    # KillSwitchAndLeases

    async def get_kill_switch(self, account: str | None = None, *, user_id: str | None = None) -> KillSwitch:
        return await self._controls.get_kill_switch(account, user_id=user_id)

    async def set_kill_switch(self, switch: KillSwitch, activity: ActivityEvent | None = None) -> None:
        await self._controls.set_kill_switch(switch, activity)

    async def claim_lease(self, name: str, *, now_ms: int, lease_ms: int) -> bool:
        return await self._controls.claim_lease(name, now_ms=now_ms, lease_ms=lease_ms)

    async def claim_lease_over(self, name: str, *, now_ms: int, lease_ms: int) -> LeaseClaim:
        return await self._controls.claim_lease_over(name, now_ms=now_ms, lease_ms=lease_ms)

    async def release_lease(self, name: str, *, claimed_at_ms: int, lease_ms: int) -> bool:
        return await self._controls.release_lease(name, claimed_at_ms=claimed_at_ms, lease_ms=lease_ms)

    # RosterStore

    async def get_roster(self) -> Roster:
        return await self._roster.get_roster()

    async def put_roster(
        self, roster: Roster, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        return await self._roster.put_roster(roster, expected_version, activity)

    # ActivityJournal

    async def append_activity(self, event: ActivityEvent) -> bool:
        return await self._journal.append_activity(event)

    async def list_activity(
        self, stream: ActivityStream, since: datetime, until: datetime | None = None, limit: int = 10_000
    ) -> list[ActivityEvent]:
        return await self._journal.list_activity(stream, since, until, limit)

    # Heartbeats

    async def beat(self, heartbeat: Heartbeat) -> None:
        await self._heartbeats.beat(heartbeat)

    async def list_heartbeats(self) -> list[Heartbeat]:
        return await self._heartbeats.list_heartbeats()

    async def forget_heartbeat(self, process_id: str) -> None:
        await self._heartbeats.forget_heartbeat(process_id)

    # DeskControls

    async def get_limits(self) -> DeskLimits:
        return await self._desk_controls.get_limits()

    async def put_limits(
        self, limits: DeskLimits, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        return await self._desk_controls.put_limits(limits, expected_version, activity)

    async def get_alert_preferences(self) -> AlertPreferences:
        return await self._desk_controls.get_alert_preferences()

    async def put_alert_preferences(
        self, preferences: AlertPreferences, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        return await self._desk_controls.put_alert_preferences(preferences, expected_version, activity)

    async def mark_done(self, name: str, *, expires_at: int) -> bool:
        return await self._desk_controls.mark_done(name, expires_at=expires_at)

    async def is_done(self, name: str) -> bool:
        return await self._desk_controls.is_done(name)
