"""What the store keeps: the trade record, the position, audit events, the kill switch, roles, the journal,
the processes' heartbeats."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec

from messages.trade import Execution, ExecutionError, Fill, LegOrder, Rejection, TradeRequest
from messages.types import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    ExecutionMethod,
    LegKind,
    OrderClass,
    OrderType,
    Side,
    TimeInForce,
    TradeStatus,
)

# The order's terms that the trade record keeps under the request's own names.
SAME_TERMS = (
    "notional",
    "trail_price",
    "trail_percent",
    "extended_hours",
    "order_class",
    "take_profit_price",
    "stop_loss_price",
    "stop_loss_limit_price",
    "parent_trade_id",
    "leg",
    "leg_order_id",
    "account",
)
SEVEN_YEARS_DAYS = 2557  # 7 × 365 + 2 leap days: the audit retention the seed promises
ApprovalDecision = Literal["approved", "rejected", "expired", "withdrawn"]


class Approval(msgspec.Struct, frozen=True, kw_only=True):
    """Why a trade waits for an approver (its notional above the threshold) and, once decided, who decided
    what and when. The first decision written is the only one (TradeRecords.decide_approval)."""

    threshold: Decimal
    notional: Decimal | None = None  # None: not known before the order (a market order with no quote)
    requested_at: datetime
    expires_at: datetime
    decision: ApprovalDecision | None = None
    decided_by: str | None = None  # an approver's user id; the trader's (withdrawn); "tradeflow" (expired)
    decided_at: datetime | None = None


class TradeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The trade item: the seed's record schema, flat, plus who asked and how it ended."""

    trade_id: uuid.UUID
    user_id: str
    channel_id: str | None = None
    symbol: str
    quantity: Decimal | None = None  # None for a dollar-amount order
    notional: Decimal | None = None
    trade_type: Side
    order_type: OrderType = "market"
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    time_in_force: TimeInForce = "day"
    extended_hours: bool = False
    order_class: OrderClass = "simple"
    take_profit_price: Decimal | None = None
    stop_loss_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None
    parent_trade_id: uuid.UUID | None = None  # a leg's parent trade (TradeRequest says more)
    leg: LegKind | None = None
    leg_order_id: str | None = None
    account: str | None = None  # the Alpaca account (None: recorded before accounts, the desk's default)
    status: TradeStatus
    timestamp: datetime
    source: str = "cli"
    slack_view_id: str | None = None
    recorded_at: datetime | None = None
    execution_id: uuid.UUID | None = None
    execution_method: ExecutionMethod | None = None
    execution_price: Decimal | None = None
    filled_quantity: Decimal | None = None
    execution_timestamp: datetime | None = None
    alpaca_order_id: str | None = None
    execution_time_ms: Decimal | None = None
    reference_price: Decimal | None = None
    slippage_bps: Decimal | None = None
    market_impact_bps: Decimal | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_next_steps: tuple[str, ...] = ()
    rejection_reasons: tuple[Rejection, ...] = ()
    fills: tuple[Fill, ...] = ()
    order_status: str | None = None  # the stock broker's own order status, when there is an order
    legs: tuple[LegOrder, ...] = ()  # a bracket's, OCO's or OTO's exits, each recorded as a trade of its own
    approval: Approval | None = None  # set when the trade waited (or waits) for an approver
    expires_at: int | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def size_text(self) -> str:
        """How much was asked: `10` shares or `$500.00`."""
        return f"${self.notional:,.2f}" if self.notional is not None else f"{self.quantity}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def request(self) -> TradeRequest:
        """Rebuild the trader's request from the stored record."""
        return TradeRequest(
            trade_id=self.trade_id,
            user_id=self.user_id,
            channel_id=self.channel_id,
            symbol=self.symbol,
            side=self.trade_type,
            quantity=self.quantity,
            order_type=self.order_type,
            limit_price=self.price,
            stop_price=self.stop_price,
            time_in_force=self.time_in_force,
            **{name: getattr(self, name) for name in SAME_TERMS},
            submitted_at=self.timestamp,
            source=self.source,
            slack_view_id=self.slack_view_id,
        )

    def execution(self) -> Execution | None:
        """The stored execution, when the trade executed."""
        if self.status != "executed" or self.execution_id is None:
            return None
        assert self.execution_method is not None and self.execution_price is not None
        assert self.filled_quantity is not None and self.execution_timestamp is not None
        assert self.execution_time_ms is not None and self.reference_price is not None
        assert self.slippage_bps is not None and self.market_impact_bps is not None
        return Execution(
            execution_id=self.execution_id,
            execution_method=self.execution_method,
            execution_price=self.execution_price,
            filled_quantity=self.filled_quantity,
            execution_timestamp=self.execution_timestamp,
            execution_time_ms=self.execution_time_ms,
            reference_price=self.reference_price,
            slippage_bps=self.slippage_bps,
            market_impact_bps=self.market_impact_bps,
            alpaca_order_id=self.alpaca_order_id,
            fills=self.fills,
            legs=self.legs,
        )

    def error(self) -> ExecutionError | None:
        """The stored execution error, when the trade failed."""
        if self.status != "failed" or self.error_code is None:
            return None
        return ExecutionError(
            code=self.error_code,
            message=self.error_message or "",
            next_steps=self.error_next_steps,
            execution_method=self.execution_method,
            alpaca_order_id=self.alpaca_order_id,
        )


def pending_record(trade: TradeRequest, *, recorded_at: datetime, expires_at: int) -> TradeRecord:
    """The PENDING record persistence puts for a validated trade."""
    return TradeRecord(
        trade_id=trade.trade_id,
        user_id=trade.user_id,
        channel_id=trade.channel_id,
        symbol=trade.symbol,
        quantity=trade.quantity,
        trade_type=trade.side,
        order_type=trade.order_type,
        price=trade.limit_price,
        stop_price=trade.stop_price,
        time_in_force=trade.time_in_force,
        **{name: getattr(trade, name) for name in SAME_TERMS},
        status="pending",
        timestamp=trade.submitted_at,
        source=trade.source,
        slack_view_id=trade.slack_view_id,
        recorded_at=recorded_at,
        expires_at=expires_at,
    )


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """A trader's holding in one symbol in one account; quantity is negative when short."""

    user_id: str
    symbol: str
    account: str | None = None  # the Alpaca account it is held in (None: a desk of one account)
    quantity: Decimal = Decimal(0)
    average_cost: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    # P&L realized on New York's trading day `pnl_day` (YYYY-MM-DD): a day-loss limit reads it.
    day_realized_pnl: Decimal = Decimal(0)
    pnl_day: str | None = None
    version: int = 0
    updated_at: datetime | None = None
    last_trade_id: uuid.UUID | None = None


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One append-only audit item. `event_key` orders a trade's events and makes each write idempotent."""

    trade_id: uuid.UUID
    event_key: str
    event_type: str
    audit_id: uuid.UUID
    timestamp: datetime
    user_id: str
    details: dict[str, Any] = {}
    expires_at: int
    # The trade's hash chain (workers/store/audit_chain.py): set by the store when it writes the item.
    chain_seq: int | None = None
    prev_hash: str | None = None
    chain_hash: str | None = None


HaltMode = Literal["halted", "reducing"]


class KillSwitch(msgspec.Struct, frozen=True, kw_only=True):
    """The trading halt flag kept in the store: the desk's, one Alpaca account's (`account`) or one trader's
    (`user_id`), each halting only the trades it covers. `halted` refuses every new trade; `reducing` lets
    through only the trades that reduce a position (a day-loss limit sets it, `automatic`)."""

    engaged: bool
    account: str | None = None
    user_id: str | None = None
    mode: HaltMode = "halted"
    automatic: bool = False  # set by a limit (tradeflow, not an operator)
    reason: str = ""
    changed_by: str = ""
    changed_at: datetime | None = None

    @property
    def scope(self) -> str:
        """Whom it halts, in words: the desk, an account, a trader."""
        if self.user_id is not None:
            return f"for {self.user_id}"
        return f"in the {self.account} account" if self.account is not None else ""


# Who may do what: trader submits, viewer sees their App Home, operator halts, resumes, replays, purges and
# reconciles, admin manages roles, approver approves or rejects another trader's large trade. No role
# implies another.
Role = Literal["trader", "viewer", "operator", "admin", "approver"]
ROLES: tuple[Role, ...] = ("trader", "viewer", "operator", "admin", "approver")


class RoleGrant(msgspec.Struct, frozen=True, kw_only=True):
    """A role a user holds: who granted it (an admin's user id, or the setting that seeded it) and when."""

    role: Role
    granted_by: str
    granted_at: datetime


class RoleRemoval(msgspec.Struct, frozen=True, kw_only=True):
    """A role an admin removed: remembered so that seeding from the settings never grants it back."""

    role: Role
    removed_by: str
    removed_at: datetime


class UserRoles(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    grants: tuple[RoleGrant, ...] = ()
    removals: tuple[RoleRemoval, ...] = ()
    # The Alpaca accounts the trader trades in: the first is their default; none: the desk's default only.
    accounts: tuple[str, ...] = ()

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(grant.role for grant in self.grants)


class Roster(msgspec.Struct, frozen=True, kw_only=True):
    """Every user's roles, kept as one item and replaced under an optimistic version check."""

    users: dict[str, UserRoles] = {}
    version: int = 0

    def roles_of(self, user_id: str) -> frozenset[str]:
        entry = self.users.get(user_id)
        return frozenset() if entry is None else entry.roles

    def accounts_of(self, user_id: str) -> tuple[str, ...]:
        entry = self.users.get(user_id)
        return () if entry is None else entry.accounts


# ops: what operators and admins did; session: every Slack interaction; access: every refusal.
ActivityStream = Literal["ops", "session", "access"]
ACTIVITY_STREAMS: tuple[ActivityStream, ...] = ("ops", "session", "access")


class ActivityEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the activity journal: an action outside a trade's own audit trail, append-only."""

    stream: ActivityStream
    event_type: str
    actor: str  # the user id who acted or was refused; "settings" for seeding, "" when nobody is known
    at: datetime
    event_id: uuid.UUID
    details: dict[str, Any] = {}
    expires_at: int


class Heartbeat(msgspec.Struct, frozen=True, kw_only=True):
    """A running tradeflow process saying it is alive: where it runs, what it consumes, when it last said so.

    Each worker process beats every `interval_ms`; a reader judges a beat by its age against that interval
    (`tradeflow health` calls a process live while its last beat is younger than three intervals).
    """

    host: str
    pid: int
    role: str = "worker"  # the kind of process: "worker" for `tradeflow worker`
    queues: tuple[str, ...] = ()  # the stage queues it consumes (delay queues left out)
    started_at: datetime
    beat_at: datetime
    interval_ms: int
    version: str = ""  # tradeflow's package version

    @property
    def process_id(self) -> str:
        """The process's key among the heartbeats: its host and pid (a pid reused on a host replaces it)."""
        return f"{self.host}:{self.pid}"
