"""What every handler receives: the ports and the policy, composed once in bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from brokers.port import StockBroker
from workers.handlers.ports import Notifier
from workers.store.port import TradeStore


@dataclass(frozen=True)
class TradingPolicy:
    """Pre-trade limits, read from the settings."""

    symbols: frozenset[str]
    traders: frozenset[str]
    max_quantity: Decimal
    max_notional: Decimal
    allow_short: bool = False


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    store: TradeStore
    broker: StockBroker
    notifier: Notifier
    policy: TradingPolicy
    retention_days: int
    clock: Callable[[], datetime] = field(default=utc_now)
