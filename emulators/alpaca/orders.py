"""Orders as Alpaca keeps them: the order object, its executions, and the book that finds them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from emulators.alpaca.assets import Asset
from emulators.alpaca.formats import CENT, NINE_PLACES, decimal_text, now_ns, rfc3339_ns

OPEN_STATUSES = frozenset({"pending_new", "accepted", "new", "partially_filled"})
CLOSED_STATUSES = frozenset({"filled", "canceled", "expired", "rejected", "replaced"})
# An exit leg waiting for its entry (or, for a stop-loss, for its stop) is `held`: it can be canceled or
# replaced, but GET /v2/orders?status=open leaves it out and status=closed lists it, as Alpaca's does
# (alpacahq/alpaca-trade-api-python#322, alpacahq/alpaca-trade-api-js#87).
HELD = "held"
ZERO = Decimal(0)


@dataclass(frozen=True)
class Execution:
    id: str
    order_id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    at_ns: int

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_id": self.id,
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side,
            "qty": decimal_text(self.qty),
            "price": decimal_text(self.price),
            "timestamp": rfc3339_ns(self.at_ns),
        }


@dataclass(eq=False)
class Order:
    client_order_id: str
    asset: Asset
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    extended_hours: bool
    position_intent: str
    expires_at: datetime
    status: str = "pending_new"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    submitted_at_ns: int = field(default_factory=now_ns)
    updated_at_ns: int = 0
    filled_at_ns: int | None = None
    expired_at_ns: int | None = None
    canceled_at_ns: int | None = None
    failed_at_ns: int | None = None
    replaced_at_ns: int | None = None
    replaced_by: str | None = None  # the order that replaced this one (PATCH /v2/orders/{id})
    replaces: str | None = None  # the order this one replaced
    filled_qty: Decimal = ZERO
    filled_value: Decimal = ZERO  # Σ qty × price of the executions
    filled_notional: Decimal = ZERO  # notional orders: how much of the notional has executed
    stop_triggered: bool = False
    executing: bool = False  # a fill task owns the order's remaining quantity
    executions: list[Execution] = field(default_factory=list)
    # Order classes (legs.py): a bracket/oto entry or an oco take-profit carries its `legs`; each leg
    # names its `parent`. `armed`: a held stop-loss leg whose entry filled, watched for its stop.
    order_class: str = "simple"
    legs: list[Order] = field(default_factory=list)
    parent: Order | None = field(default=None, repr=False)
    armed: bool = False
    # Trailing stops (trailing.py): the trail as submitted, and the high- (low-) water mark.
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None

    def __post_init__(self) -> None:
        self.created_at_ns = self.submitted_at_ns
        self.updated_at_ns = self.updated_at_ns or self.submitted_at_ns

    @property
    def symbol(self) -> str:
        return self.asset.symbol

    @property
    def is_open(self) -> bool:
        """Not yet done: it may still fill, be canceled or replaced (a held leg included)."""
        return self.status in OPEN_STATUSES or self.status == HELD

    def remaining_qty(self) -> Decimal | None:
        """Shares still to fill, or None for a notional order (it is measured in dollars)."""
        return None if self.qty is None else self.qty - self.filled_qty

    def remaining_notional(self) -> Decimal:
        return (self.notional or ZERO) - self.filled_notional

    def pieces(self, count: int) -> list[Decimal]:
        """Split what is left (shares, or dollars for a notional order) into `count` executions."""
        remaining = self.remaining_qty()
        if remaining is None:
            remaining, step = self.remaining_notional(), CENT
        else:
            step = Decimal(1) if remaining == remaining.to_integral_value() else NINE_PLACES
        piece = (remaining / count).quantize(step, rounding=ROUND_DOWN)
        if piece <= 0:
            return [step] * int(remaining / step) if step == 1 else [remaining]
        return [piece] * (count - 1) + [remaining - piece * (count - 1)]

    def filled_avg_price(self) -> Decimal | None:
        return None if self.filled_qty == 0 else (self.filled_value / self.filled_qty).quantize(NINE_PLACES)

    def touch(self, at_ns: int | None = None) -> int:
        self.updated_at_ns = at_ns or now_ns()
        return self.updated_at_ns

    def to_json(self, *, nested: bool = False) -> dict[str, Any]:
        """The order object of Alpaca's Trading API v2 (what alpaca-py's Order model parses); `nested`
        puts the legs under it (the submit answer, `?nested=true`), else `legs` is null."""

        def price(value: Decimal | None) -> str | None:
            return None if value is None else decimal_text(value)

        def moment(ns: int | None) -> str | None:
            return None if ns is None else rfc3339_ns(ns)

        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": rfc3339_ns(self.created_at_ns),
            "updated_at": rfc3339_ns(self.updated_at_ns),
            "submitted_at": rfc3339_ns(self.submitted_at_ns),
            "filled_at": moment(self.filled_at_ns),
            "expired_at": moment(self.expired_at_ns),
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
            "canceled_at": moment(self.canceled_at_ns),
            "failed_at": moment(self.failed_at_ns),
            "replaced_at": moment(self.replaced_at_ns),
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": self.asset.id,
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": price(self.notional),
            "qty": price(self.qty),
            "filled_qty": decimal_text(self.filled_qty),
            "filled_avg_price": price(self.filled_avg_price()),
            "order_class": self.order_class,
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": self.position_intent,
            "time_in_force": self.time_in_force,
            "limit_price": price(self.limit_price),
            "stop_price": price(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": [leg.to_json() for leg in self.legs] if nested and self.legs else None,
            "trail_percent": price(self.trail_percent),
            "trail_price": price(self.trail_price),
            "hwm": price(self.hwm),
            "subtag": None,
            "source": None,
        }


@dataclass(frozen=True)
class OrderQuery:
    """GET /v2/orders filters, as alpaca-py's GetOrdersRequest sends them."""

    status: str = "open"
    limit: int = 50
    after: datetime | None = None
    until: datetime | None = None
    direction: str = "desc"
    side: str | None = None
    symbols: frozenset[str] | None = None
    nested: bool = False


class OrderBook:
    def __init__(self) -> None:
        self._by_id: dict[str, Order] = {}
        self._by_client_id: dict[str, Order] = {}
        self.sequence: list[Order] = []  # every order accepted, in the order it arrived

    def add(self, order: Order) -> None:
        self._by_id[order.id] = order
        self._by_client_id[order.client_order_id] = order
        self.sequence.append(order)

    def get(self, order_id: str) -> Order | None:
        return self._by_id.get(order_id.lower())

    def by_client_order_id(self, client_order_id: str) -> Order | None:
        return self._by_client_id.get(client_order_id)

    def open_orders(self) -> list[Order]:
        return [order for order in self.sequence if order.is_open]

    def query(self, query: OrderQuery) -> list[Order]:
        wanted = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES | {HELD}}.get(query.status)
        found = []
        for order in self.sequence:
            submitted = order.submitted_at_ns
            if query.nested and order.parent is not None:
                continue  # listed under its parent
            if wanted is not None and order.status not in wanted:
                continue
            if query.after is not None and submitted <= _ns(query.after):
                continue
            if query.until is not None and submitted >= _ns(query.until):
                continue
            if query.side is not None and order.side != query.side:
                continue
            if query.symbols is not None and order.symbol not in query.symbols:
                continue
            found.append(order)
        found.sort(key=lambda order: order.submitted_at_ns, reverse=query.direction == "desc")
        return found[: query.limit]


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000
