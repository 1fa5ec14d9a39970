"""The trade as the trader asked for it, and the execution that answered it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from messages.order_shape import OrderShape, shape_problems
from messages.types import (
    AccountName,
    ChannelId,
    ExecutionMethod,
    LegKind,
    OrderClass,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    UserId,
    require_amount,
    require_finite,
    require_positive,
)

AMOUNT_FIELDS = (
    "quantity",
    "notional",
    "limit_price",
    "stop_price",
    "trail_price",
    "trail_percent",
    "take_profit_price",
    "stop_loss_price",
    "stop_loss_limit_price",
)


class LegOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One exit leg of a bracket, OCO or OTO as Alpaca holds it: its own order, ids and terms."""

    order_id: str
    client_order_id: str
    leg: LegKind
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = "day"


class TradeRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the trader submitted; the same value travels through every stage unchanged."""

    trade_id: uuid.UUID
    user_id: UserId
    channel_id: ChannelId | None = None
    symbol: Symbol
    side: Side
    quantity: Decimal | None = None  # shares; None for a dollar-amount order
    notional: Decimal | None = None  # dollars ("buy $500 of AAPL"): Alpaca fills fractional shares
    order_type: OrderType = "market"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None  # a trailing stop's distance in dollars…
    trail_percent: Decimal | None = None  # …or in percent of the high-water mark
    time_in_force: TimeInForce = "day"
    extended_hours: bool = False  # eligible in the pre-market and after-hours sessions (limit orders)
    order_class: OrderClass = "simple"
    take_profit_price: Decimal | None = None  # the take-profit leg's limit price
    stop_loss_price: Decimal | None = None  # the stop-loss leg's stop price…
    stop_loss_limit_price: Decimal | None = None  # …and its limit, which makes it a stop-limit
    # A leg of a bracket, OCO or OTO is a trade of its own, recorded when Alpaca shows it (never placed by
    # tradeflow): its trade id is the leg's client order id, and it names its parent trade and leg order.
    parent_trade_id: uuid.UUID | None = None
    leg: LegKind | None = None
    leg_order_id: str | None = None
    submitted_at: datetime
    source: str = "cli"
    slack_view_id: str | None = None  # the modal the trade came from, updated to its outcome
    # The Alpaca account it trades in; None: the trader's default (the roster), else the desk's. Validation
    # names it on the trade it passes on, so the recorded trade always says which, and it never changes.
    account: AccountName | None = None
    # The trader confirmed it is meant although the same order was just sent (the duplicate guard).
    confirmed: bool = False

    def __post_init__(self) -> None:
        for name in AMOUNT_FIELDS:
            require_amount(name, getattr(self, name))
        problems = shape_problems(self.shape())
        if problems:
            field, problem = next(iter(problems.items()))
            raise ValueError(f"{field}: {problem}")

    def shape(self) -> OrderShape:
        return OrderShape(
            order_type=self.order_type,
            side=self.side,
            time_in_force=self.time_in_force,
            quantity=self.quantity,
            notional=self.notional,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            trail_price=self.trail_price,
            trail_percent=self.trail_percent,
            extended_hours=self.extended_hours,
            order_class=self.order_class,
            take_profit_price=self.take_profit_price,
            stop_loss_price=self.stop_loss_price,
            stop_loss_limit_price=self.stop_loss_limit_price,
        )

    @property
    def key(self) -> str:
        return str(self.trade_id)

    @property
    def size_text(self) -> str:
        """How much, as the trader said it: `10` shares or `$500.00`."""
        return f"${self.notional:,.2f}" if self.notional is not None else f"{self.quantity}"

    def cost_at(self, price: Decimal | None) -> Decimal | None:
        """The order's dollar amount at `price` (a notional order's own amount); None when unknown."""
        if self.notional is not None:
            return self.notional
        if price is None or self.quantity is None:
            return None
        return self.quantity * price


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
    legs: tuple[LegOrder, ...] = ()  # a bracket's, OCO's or OTO's exits, as Alpaca showed them

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
    legs: tuple[LegOrder, ...] = ()


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    """One reason validation refused a trade: the field at fault, the error as the seed words it (short:
    "Market is closed"), and what the trader can do about it (the notice's Next Steps)."""

    field: str
    code: str
    message: str
    next_step: str = ""
