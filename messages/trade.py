"""The trade as the trader asked for it, and the execution that answered it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from messages.types import (
    NEEDS_LIMIT_PRICE,
    NEEDS_STOP_PRICE,
    ChannelId,
    ExecutionMethod,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    UserId,
    require_amount,
    require_finite,
    require_positive,
)


class TradeRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the trader submitted; the same value travels through every stage unchanged."""

    trade_id: uuid.UUID
    user_id: UserId
    channel_id: ChannelId | None = None
    symbol: Symbol
    side: Side
    quantity: Decimal
    order_type: OrderType = "market"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = "day"
    submitted_at: datetime
    source: str = "cli"
    slack_view_id: str | None = None  # the modal the trade came from, updated to its outcome

    def __post_init__(self) -> None:
        require_amount("quantity", self.quantity)
        require_amount("limit_price", self.limit_price)
        require_amount("stop_price", self.stop_price)
        if self.order_type in NEEDS_LIMIT_PRICE and self.limit_price is None:
            raise ValueError(f"limit_price is required for a {self.order_type} order")
        if self.order_type in NEEDS_STOP_PRICE and self.stop_price is None:
            raise ValueError(f"stop_price is required for a {self.order_type} order")
        if self.order_type not in NEEDS_LIMIT_PRICE and self.limit_price is not None:
            raise ValueError(f"limit_price is not allowed on a {self.order_type} order")
        if self.order_type not in NEEDS_STOP_PRICE and self.stop_price is not None:
            raise ValueError(f"stop_price is not allowed on a {self.order_type} order")

    @property
    def key(self) -> str:
        return str(self.trade_id)


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    """One fill of an order: a partial fill or the whole of it."""

    quantity: Decimal
    price: Decimal
    timestamp: datetime

    def __post_init__(self) -> None:
        require_positive("fill quantity", self.quantity)
        require_positive("fill price", self.price)


class Execution(msgspec.Struct, frozen=True, kw_only=True):
    """The seed's execution record fields, as filled by a StockBroker."""

    execution_id: uuid.UUID
    execution_method: ExecutionMethod
    execution_price: Decimal
    filled_quantity: Decimal
    execution_timestamp: datetime
    execution_time_ms: Decimal
    reference_price: Decimal
    slippage_bps: Decimal
    market_impact_bps: Decimal
    alpaca_order_id: str | None = None
    fills: tuple[Fill, ...] = ()

    def __post_init__(self) -> None:
        require_positive("execution_price", self.execution_price)
        require_positive("filled_quantity", self.filled_quantity)
        require_positive("reference_price", self.reference_price)
        require_finite("execution_time_ms", self.execution_time_ms)
        require_finite("slippage_bps", self.slippage_bps)
        require_finite("market_impact_bps", self.market_impact_bps)


class ExecutionError(msgspec.Struct, frozen=True, kw_only=True):
    """Why an execution failed, in the seed's terms: a message, a code and next steps."""

    code: str
    message: str
    next_steps: tuple[str, ...] = ()
    execution_method: ExecutionMethod | None = None
    alpaca_order_id: str | None = None


class OrderPending(msgspec.Struct, frozen=True, kw_only=True):
    """The order is not decided yet: resting at the stock broker (`working`) or not found yet (`unknown`)."""

    state: Literal["working", "unknown"]
    execution_method: ExecutionMethod
    alpaca_order_id: str | None = None
    reason: str = ""
    fills: tuple[Fill, ...] = ()
    reference_price: Decimal | None = None


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    """One reason validation refused a trade: the field at fault, the error as the seed words it (short:
    "Market is closed"), and what the trader can do about it (the notice's Next Steps)."""

    field: str
    code: str
    message: str
    next_step: str = ""
