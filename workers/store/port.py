"""The TradeStore port, one protocol per role: every durable write tradeflow makes, idempotent by trade id.

Conditions, not reads-then-writes, make every method safe under redelivery and concurrency.
Implementations raise StoreUnavailable for transient faults and nothing else for business outcomes.

Every audit event a method writes is linked onto its trade's hash chain (store/audit_chain.py) in the
same atomic write; an event key that exists adds no link. A write refused because it would change a
terminal trade or an existing audit item, other than a redelivery of the same, is itself audited as a
`change_refused` event on the trade's chain (store/refusals.py).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from messages.alerts import AlertPreferences
from messages.limits import DeskLimits
from messages.records import (
    ActivityEvent,
    ActivityStream,
    AuditEvent,
    KillSwitch,
    Position,
    Roster,
    TradeRecord,
)
from workers.store.audit_chain import AuditChain
from workers.store.heartbeats_port import Heartbeats


class StoreUnavailable(Exception):
    """The store could not be reached or throttled the request: transient, worth a retry."""


class LeaseClaim(enum.Enum):
    TAKEN = "taken"  # nobody held it
    TAKEN_OVER = "taken_over"  # an earlier holder's lease ran out without being released
    HELD = "held"  # another holder's lease is still running: not taken


class PositionWrite(enum.Enum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"  # this trade's position_updated audit item already exists
    VERSION_CONFLICT = "version_conflict"  # another trade moved the position first: re-read and retry


@dataclass(frozen=True)
class TradeReading:
    """What `TradeRecords.read_trade` found; absent things are None, or missing from `audit`."""

    trade: TradeRecord | None
    audit: dict[str, AuditEvent] = field(default_factory=dict)  # by event key
    position: Position | None = None


class TradeRecords(Protocol):
    """Each trade's record by id, written atomically with the audit events that say what happened."""

    async def get_trade(self, trade_id: uuid.UUID) -> TradeRecord | None: ...

    async def read_trade(
        self,
        trade_id: uuid.UUID,
        *,
        audit_keys: Collection[str] = (),
        position: tuple[str, str, str | None] | None = None,
    ) -> TradeReading:
        """The trade, those of its audit events under `audit_keys` that exist, and the position at
        (user_id, symbol, account), read consistently together: one request on DynamoDB, where it also
        brings the trade's chain head for the audit write that usually follows (store/head_hints.py)."""

    async def put_new_trade(self, record: TradeRecord, audit: Sequence[AuditEvent]) -> TradeRecord | None:
        """Put the trade if its id is new, with its audit events, atomically.

        Returns None when written, or the stored record (and writes nothing) when the id exists.
        """

    async def record_outcome(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        """Replace an open trade (pending, working or unknown) with its terminal record and audit, atomically.

        Returns None when written, or the stored record (and writes nothing) when it is no longer open, or
        awaits approval (only its decision moves it: `decide_approval`).
        Raises ValueError when `record` is not terminal, KeyError when the trade does not exist.
        """

    async def record_progress(self, record: TradeRecord, audit: AuditEvent | None) -> TradeRecord | None:
        """Replace an open trade with another open record (pending -> working, more fills, -> unknown); a
        trade awaiting approval is refused as a terminal one is (its stored record returned).

        `audit`, when given, is written with the record atomically; if that audit item already exists (a
        redelivery), the record is written all the same and the stored audit item is kept.
        Returns None when written, or the stored record (and writes nothing) when the trade is terminal.
        Raises ValueError when `record` is not open, KeyError when the trade does not exist.
        """

    async def decide_approval(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        """Replace a trade awaiting approval with its decided record (pending once approved, else rejected)
        and the decision's audit item, atomically: the first decision written is the only one.

        Returns None when written, or the stored record (and writes nothing) when the trade no longer
        awaits approval (decided already: a redelivery, or another decision won).
        Raises ValueError when `record` still awaits approval or carries no decision, KeyError when the
        trade does not exist.
        """


class TradeQueries(Protocol):
    """Trades listed by status, by trader and by submission time, each over an index, never a Scan."""

    async def list_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), limit: int = 500
    ) -> list[TradeRecord]:
        """Up to `limit` open trades in `statuses` (each one of OPEN_STATUSES), oldest `timestamp` first.

        Reads a sparse index, never the whole table. The index is eventually consistent on DynamoDB: a
        trade that just changed may be missing, or listed with its previous (possibly open) status after
        it closed. Re-read each trade with `get_trade` (consistent) before acting on it.
        Raises ValueError for a status that is not open or a limit below 1.
        """

    def iter_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        """Every open trade in `statuses`, fetched a page at a time: one status after another, each oldest
        `timestamp` first (the sweeper's read: all of them, however many, holding one page at a time).

        The same sparse index and consistency notes as `list_open_trades`. Arguments are checked on the
        first step: ValueError for a status that is not open or a page_size below 1.
        """
        ...

    async def list_user_trades(self, user_id: str, limit: int = 10) -> list[TradeRecord]:
        """The trader's `limit` most recent trades, newest `timestamp` first, in any status.

        Reads the user-trades index, never the whole table. On DynamoDB the index is eventually consistent:
        a trade just written may be missing or show its previous status for a moment. A trade an older
        version wrote, and that has not been written since, lacks the index key and is not listed.
        Raises ValueError for a limit below 1.
        """

    async def list_trades_since(
        self, since: datetime, until: datetime | None = None, limit: int = 100_000
    ) -> list[TradeRecord]:
        """Up to `limit` trades submitted (`timestamp`) in [since, until), oldest first, in any status.

        `until` defaults to now; a naive datetime is read as UTC. Reads the trades-by-day index, one
        partition per UTC day of the window, never the whole table. On DynamoDB the index is eventually
        consistent (a trade just written may be missing or show its previous status), and a trade an older
        version wrote, and that has not been written since, lacks the index key and is not listed.
        Raises ValueError for `until` before `since` or a limit below 1.
        """

    def iter_trades(
        self, since: datetime, until: datetime | None = None, *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        """Every trade submitted in [since, until), oldest first, in any status, fetched a page at a time.

        The streaming form of `list_trades_since`, for windows too large to hold: it reads the same
        trades-by-day index, one UTC day after another, `page_size` items per request, never the whole
        table, and holds one page at a time. The same consistency notes apply. Arguments are checked on the
        first step: ValueError for `until` before `since` or a page_size below 1.
        """
        ...


class Positions(Protocol):
    """Each trader's holding per symbol, versioned, moved once per trade under that trade's audit guard."""

    async def get_position(
        self, user_id: str, symbol: str, account: str | None = None
    ) -> Position | None: ...

    async def list_positions(self, user_id: str) -> list[Position]: ...

    # Every trader's positions, by trader then symbol: a paged Scan, for operators' reconciliation.
    async def list_all_positions(self) -> list[Position]: ...

    async def apply_position(
        self, position: Position, expected_version: int, audit: AuditEvent
    ) -> PositionWrite:
        """Write `position` (version = expected_version + 1) and the trade's position audit item atomically.

        The position is written only if its stored version is `expected_version` (0: absent), and only if
        `audit` (the trade's guard) does not exist yet.
        """


class AuditTrail(Protocol):
    """Each trade's audit events, append-only, linked onto the trade's hash chain as they are written."""

    async def append_audit(self, event: AuditEvent) -> bool:
        """Put an audit event unless its (trade_id, event_key) exists. True when written."""

    async def read_audit_chain(self, trade_id: uuid.UUID) -> AuditChain:
        """The trade's audit items and chain head exactly as stored, read consistently, for verification."""

    async def get_audit(self, trade_id: uuid.UUID, event_key: str) -> AuditEvent | None: ...

    async def list_audit(self, trade_id: uuid.UUID) -> list[AuditEvent]:
        """The trade's audit events in event_key order."""


class KillSwitchAndLeases(Protocol):
    """The kill switch that halts trading; leases that give one holder work no condition can guard."""

    async def get_kill_switch(self, account: str | None = None, *, user_id: str | None = None) -> KillSwitch:
        """The desk's switch, with `account` that account's own, with `user_id` that trader's own (in any
        account); disengaged when never set. `set_kill_switch` files a switch by its account or user_id."""
        ...

    async def set_kill_switch(self, switch: KillSwitch, activity: ActivityEvent | None = None) -> None:
        """Replace the kill switch; `activity`, the journal entry of who did it, in the same transaction."""

    async def claim_lease(self, name: str, *, now_ms: int, lease_ms: int) -> bool:
        """Take the named lease unless another holder's lease is still running. True when taken.

        A lease guards work that cannot be made idempotent by a condition alone (sending a message to a
        person): one holder does it; a crashed holder's lease runs out and the next delivery takes over.
        """

    async def claim_lease_over(self, name: str, *, now_ms: int, lease_ms: int) -> LeaseClaim:
        """`claim_lease`, also saying whether an earlier holder's lease (run out, never released) was there.

        A taken-over lease means an earlier holder may have done part of the work and died before it said
        so: a notice may have gone out whose audit item was never written. The new holder checks first.
        """

    async def release_lease(self, name: str, *, claimed_at_ms: int, lease_ms: int) -> bool:
        """Give up the lease `claim_lease(name, now_ms=claimed_at_ms, lease_ms=lease_ms)` took.

        A holder whose work failed releases it, so the next delivery can claim it at once rather than
        after it runs out. Only that holder's lease goes: once it ran out and another holder claimed the
        name (that lease ends later), or it was released already, nothing changes. True when released.
        """


class RosterStore(Protocol):
    """Every user's roles, as one versioned roster."""

    async def get_roster(self) -> Roster:
        """Every user's roles, read consistently; an empty roster (version 0) when none was ever written."""

    async def put_roster(
        self, roster: Roster, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        """Write `roster` as version `expected_version + 1` if the stored version is `expected_version`.

        0 means "none stored yet". `activity`, the journal entry saying who changed what, is appended in
        the same transaction: a role change is never without it. True when written; False (and nothing
        written) when another writer got there first: re-read and apply the change again.
        """


class ActivityJournal(Protocol):
    """Who did what outside any trade: append-only entries per stream (ops, session, access) and UTC day."""

    async def append_activity(self, event: ActivityEvent) -> bool:
        """Put a journal entry unless its key (stream, UTC day, time, event id) exists. True when written.

        Entries are only ever put under `attribute_not_exists`: never replaced, never deleted but by TTL.
        """

    async def list_activity(
        self, stream: ActivityStream, since: datetime, until: datetime | None = None, limit: int = 10_000
    ) -> list[ActivityEvent]:
        """Up to `limit` entries of `stream` whose `at` is in [since, until), oldest first.

        `until` defaults to now; a naive datetime is read as UTC. One partition per stream and UTC day,
        read with one Query per day of the window, never a Scan. Raises ValueError as list_trades_since.
        """


class DeskControls(Protocol):
    """The desk's risk limits and alert preferences, each one versioned item (like the roster), and the
    markers that make a side effect with no trade of its own (an alert) happen once."""

    async def get_limits(self) -> DeskLimits:
        """Every scope's limits, read consistently; empty (version 0) when none was ever written."""

    async def put_limits(
        self, limits: DeskLimits, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        """Write `limits` as version `expected_version + 1` if the stored version is `expected_version`,
        with `activity` (who changed what) in the same transaction. False, nothing written, on a conflict."""

    async def get_alert_preferences(self) -> AlertPreferences: ...

    async def put_alert_preferences(
        self, preferences: AlertPreferences, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        """As put_limits, for the alert preferences."""

    async def mark_done(self, name: str, *, expires_at: int) -> bool:
        """Put the marker `name` unless it exists (kept until `expires_at`, epoch seconds). True when put."""

    async def is_done(self, name: str) -> bool:
        """Whether the marker `name` exists."""


class TradeStore(
    TradeRecords,
    TradeQueries,
    Positions,
    AuditTrail,
    KillSwitchAndLeases,
    RosterStore,
    ActivityJournal,
    Heartbeats,
    DeskControls,
    Protocol,
):
    """Every role above, and the tables under them: what the workers are handed."""

    async def create_tables(self) -> None:
        """Create the tables, their indexes and TTL on `expires_at` when missing; idempotent.

        Adds an index missing from a table an older version created, and waits until it is ACTIVE.
        """

    async def close(self) -> None: ...
