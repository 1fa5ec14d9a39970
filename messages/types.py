"""Constrained scalar types shared by every message: the wire contract's vocabulary."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec

Symbol = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{1,5}(\.[A-Z]{1,2})?$", description="Ticker, e.g. AAPL or BRK.B")
]
UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
ChannelId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit", "stop", "stop_limit"]
TimeInForce = Literal["day", "gtc", "ioc", "fok"]
ExecutionMethod = Literal["alpaca", "simulation"]
# pending: recorded, no order sent yet. working: the order rests at the stock broker (a limit not yet
# crossed, or partly filled). unknown: the order request may have reached the stock broker, but it could not
# be found yet; reconciliation settles it. The other three are terminal and immutable.
TradeStatus = Literal["pending", "working", "unknown", "executed", "failed", "rejected"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"executed", "failed", "rejected"})
OPEN_STATUSES: frozenset[str] = frozenset({"pending", "working", "unknown"})

# Orders that need a limit price, a stop price, or both.
NEEDS_LIMIT_PRICE: frozenset[str] = frozenset({"limit", "stop_limit"})
NEEDS_STOP_PRICE: frozenset[str] = frozenset({"stop", "stop_limit"})


def require_positive(name: str, value: Decimal | None) -> None:
    """Refuse a non-finite or non-positive amount, naming the field (msgspec has no Decimal bounds)."""
    if value is None:
        return
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, got {value}")


def require_finite(name: str, value: Decimal | None) -> None:
    """Refuse NaN and infinity, naming the field."""
    if value is not None and not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
