"""What every handler receives: the ports and the policy, composed once in bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from brokers.port import StockBroker
from workers.handlers.ports import AlertChannels, Notifier, RoleReader, SharedKeys
from workers.store.port import TradeStore


@dataclass(frozen=True)
class TradingPolicy:
    """Pre-trade limits, read from the settings. Who may trade is a role, read through Deps.roles."""

    symbols: frozenset[str]
    max_quantity: Decimal
    max_notional: Decimal
    allow_short: bool = False
    # The desk's Alpaca accounts by name, its default first; empty: one account, trades name none.
    accounts: tuple[str, ...] = ()
    # The account a trade naming none trades in: its limits (`tradeflow limits set --account`) are its own.
    default_account: str = "main"
    large_trade_notional: Decimal = Decimal(50_000)  # an executed trade this large is alerted

    def account_of(self, named: str | None) -> str:
        return named or (self.accounts[0] if self.accounts else self.default_account)


@dataclass(frozen=True)
class ReconcilePolicy:
    """When an open trade is stuck, and how often the sweeper looks for stuck trades."""

    stuck_after: timedelta = timedelta(minutes=5)
    sweep_interval: timedelta = timedelta(minutes=1)  # zero: no sweeps
    # The longest one execution attempt runs (its stage's time limit): an attempt that began before the
    # deadline may still send its order until this much after it.
    attempt_limit: timedelta = timedelta(seconds=90)


@dataclass(frozen=True)
class ApprovalPolicy:
    """How long a trade above the approval threshold waits for an approver before it expires."""

    ttl: timedelta = timedelta(minutes=15)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    store: TradeStore
    broker: StockBroker
    notifier: Notifier
    policy: TradingPolicy
    retention_days: int
    roles: RoleReader
    clock: Callable[[], datetime] = field(default=utc_now)
    reconcile: ReconcilePolicy = field(default_factory=ReconcilePolicy)
    approvals: ApprovalPolicy = field(default_factory=ApprovalPolicy)
    # Keys every worker process shares (Redis), which a store outage leaves up: the claim a held trade's
    # notice takes where the store's lease cannot be written. None: no claim (one delivery at a time).
    shared: SharedKeys | None = None
    # Email and SMS (workers/alerts/): None where none is configured, and the alerts service sends nothing.
    alerts: AlertChannels | None = None
