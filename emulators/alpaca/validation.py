"""Read a `POST /v2/orders` body into a ticket, refusing malformed ones as Alpaca does (HTTP 422).

40010001 is Alpaca's code for a parameter it cannot accept, 42210000 for an order it understands but
will not take. Messages marked "(emulator wording)" below are ours; the others are Alpaca's own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emulators.alpaca import errors
from emulators.alpaca.formats import decimal_text, to_decimal
from emulators.alpaca.order_classes import Exits, read_exits, read_order_class

SIDES = ("buy", "sell")
ORDER_TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIMES_IN_FORCE = ("day", "gtc", "opg", "cls", "ioc", "fok")
PRICE_FIELDS = {"market": (), "limit": ("limit_price",), "stop": ("stop_price",), "trailing_stop": ()}
PRICE_FIELDS["stop_limit"] = ("limit_price", "stop_price")
MAX_CLIENT_ORDER_ID = 128


@dataclass(frozen=True)
class OrderTicket:
    """A well-formed order request; whether the account may place it is decided elsewhere."""

    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    extended_hours: bool
    client_order_id: str
    order_class: str = "simple"
    exits: Exits | None = None  # the legs of a bracket / oco / oto
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None


def read_ticket(body: Any) -> OrderTicket:
    if not isinstance(body, dict):
        raise errors.invalid_parameter("request body format is invalid")  # (emulator wording)
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise errors.invalid_parameter("symbol is required")  # (emulator wording)
    side = _choice(body, "side", SIDES)
    order_type = body.get("type", body.get("order_type"))
    if order_type not in ORDER_TYPES:
        raise errors.invalid_parameter(f"invalid order type: {order_type}")  # (emulator wording)
    time_in_force = _choice(body, "time_in_force", TIMES_IN_FORCE)
    order_class = read_order_class(body)

    qty, notional = _amount(body, "qty"), _amount(body, "notional")
    if qty is None and notional is None:
        raise errors.invalid_parameter("qty or notional is required")  # (emulator wording)
    if qty is not None and notional is not None:
        raise errors.invalid_parameter("qty and notional cannot both be set")  # (emulator wording)
    if notional is not None and order_type != "market":
        raise errors.unprocessable("notional orders must be market orders")  # (emulator wording)
    fractional = notional is not None or (qty is not None and qty != qty.to_integral_value())
    if fractional and time_in_force != "day":
        raise errors.unprocessable("fractional orders must be DAY orders")

    exits = read_exits(
        body,
        order_class,
        order_type=order_type,
        time_in_force=time_in_force,
        fractional=fractional,
        price=_price,
    )
    prices = {name: _price(body, name) for name in ("limit_price", "stop_price")}
    if exits is not None and order_class == "oco":  # the oco order is its take-profit
        prices["limit_price"] = exits.take_profit
    trail_price, trail_percent = read_trail(body, order_type, time_in_force)
    wanted = PRICE_FIELDS[order_type]
    if order_type == "market" and any(value is not None for value in prices.values()):
        raise errors.unprocessable("market orders require no stop or limit price")
    for name, value in prices.items():
        if name in wanted and value is None:
            raise errors.invalid_parameter(f"{name} is required")  # (emulator wording)
        if name not in wanted and value is not None:
            raise errors.invalid_parameter(f"{name} is not allowed for {order_type} orders")  # (emulator)

    extended_hours = bool(body.get("extended_hours") or False)
    if extended_hours and (order_type != "limit" or time_in_force != "day"):
        raise errors.unprocessable("extended hours order must be DAY limit orders")

    client_order_id = body.get("client_order_id") or str(uuid.uuid4())
    if not isinstance(client_order_id, str):
        raise errors.invalid_parameter("client_order_id must be a string")  # (emulator wording)
    if len(client_order_id) > MAX_CLIENT_ORDER_ID:
        raise errors.invalid_parameter("client_order_id must be no more than 128 characters")

    return OrderTicket(
        symbol=symbol.strip().upper(),
        side=side,
        type=order_type,
        time_in_force=time_in_force,
        qty=qty,
        notional=notional,
        limit_price=prices["limit_price"],
        stop_price=prices["stop_price"],
        extended_hours=extended_hours,
        client_order_id=client_order_id,
        order_class=order_class,
        exits=exits,
        trail_price=trail_price,
        trail_percent=trail_percent,
    )


Trail = tuple[Decimal | None, Decimal | None]


def read_trail(body: dict[str, Any], order_type: str, time_in_force: str) -> Trail:
    """A trailing stop's `trail_price` or `trail_percent`, exactly one of them (docs "Trailing Stop
    Orders"); time_in_force day or gtc."""
    trail_price, trail_percent = _price(body, "trail_price"), _amount(body, "trail_percent")
    if order_type != "trailing_stop":
        if trail_price is not None or trail_percent is not None:
            raise errors.invalid_parameter(f"trail is not allowed for {order_type} orders")  # (emulator)
        return None, None
    if (trail_price is None) == (trail_percent is None):
        # (emulator wording)
        raise errors.invalid_parameter("exactly one of trail_price or trail_percent is required")
    if time_in_force not in ("day", "gtc"):
        raise errors.unprocessable("trailing_stop orders must be DAY or GTC orders")  # (emulator wording)
    if trail_percent is not None and trail_percent >= 100:
        raise errors.invalid_parameter("trail_percent must be less than 100")  # (emulator wording)
    return trail_price, trail_percent


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = body.get(name)
    if value not in allowed:
        raise errors.invalid_parameter(f"invalid {name}: {value}")  # (emulator wording)
    return str(value)


def _amount(body: dict[str, Any], name: str) -> Decimal | None:
    raw = body.get(name)
    if raw is None or raw == "":
        return None
    value = to_decimal(raw)
    if value is None:
        raise errors.invalid_parameter(f"invalid {name}")  # (emulator wording)
    if value <= 0:
        raise errors.invalid_parameter(f"{name} must be > 0")  # (emulator wording)
    if -value.as_tuple().exponent > 9:  # type: ignore[operator]
        raise errors.invalid_parameter(f"{name} must have at most 9 decimal places")  # (emulator)
    return value.normalize()


def _price(body: dict[str, Any], name: str, label: str | None = None) -> Decimal | None:
    """A price field of `body`; `label` names it in refusals (e.g. "take_profit.limit_price")."""
    label = label or name
    raw = body.get(name)
    if raw is None or raw == "":
        return None
    value = to_decimal(raw)
    if value is None or value <= 0:
        raise errors.invalid_parameter(f"invalid {label}")  # (emulator wording)
    places = max(0, -value.normalize().as_tuple().exponent)  # type: ignore[operator]
    if places > (2 if value >= 1 else 4):
        raise errors.unprocessable(
            f"invalid {label} {decimal_text(value)}. sub-penny increment does not fulfill minimum "
            "pricing criteria"
        )
    return value
