"""Read and check an order request's `order_class` (bracket, oco, oto) and its `take_profit` / `stop_loss`.

What Alpaca documents ("Placing Orders" › Bracket Orders, OCO Orders, OTO Orders, Threshold on stop price
of stop-loss orders; docs.alpaca.markets/docs/orders-at-alpaca, and alpacahq/alpaca-docs
content/trading/orders.md):
- bracket: an entry plus a take-profit limit leg (`take_profit.limit_price`) and a stop-loss leg
  (`stop_loss.stop_price`, with `stop_loss.limit_price` a stop-limit); both must be present;
  `time_in_force` day or gtc; `extended_hours` false or omitted; take-profit above the stop for a buy.
- oco: the two exits of a position already held; `type` must be limit (the take-profit is the order
  itself); the stop-loss is its one leg.
- oto: an entry plus either exit; "the rest of requirements are the same as the bracket orders".
- The stop must be at least $0.01 below (a sell exit; above for a buy exit) the "base price": the
  take-profit's limit for oco, the entry's limit for a limit entry, else the current market price.
Alpaca's messages quoted: 42210000 "bracket orders must be entry orders" (a stop entry,
alpacahq/alpaca-trade-api-js#248); "bracket orders require take_profit.limit_price" (a 422 quoted in
TraderAlice/OpenAlice#342); "take_profit.limit_price must be >= base_price + 0.01" and "… <= base_price -
0.01" (forum.alpaca.markets t/13049, alpacahq issues). Every other message is marked (emulator wording).
The base price of a market entry is the far side of the quote (Alpaca's answer in forum t/13049: the
"expected fill price", the ask for a buy, the bid for a sell); the emulator takes the last trade as an oco's
market price. Trailing stops cannot be a leg: Alpaca supports them "only with single orders".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emulators.alpaca import errors
from emulators.alpaca.formats import CENT

ORDER_CLASSES = ("simple", "bracket", "oco", "oto")
ADVANCED_TIMES_IN_FORCE = ("day", "gtc")

PriceReader = Callable[[dict[str, Any], str, str], Decimal | None]


@dataclass(frozen=True)
class Exits:
    """The exit legs an advanced order asks for (None: that leg is absent)."""

    take_profit: Decimal | None
    stop_price: Decimal | None
    stop_limit: Decimal | None


def read_order_class(body: dict[str, Any]) -> str:
    order_class = body.get("order_class") or "simple"
    if order_class == "mleg":
        raise errors.unprocessable("mleg orders are not supported by the emulator")  # (emulator wording)
    if order_class not in ORDER_CLASSES:
        raise errors.invalid_parameter(f"invalid order_class: {order_class}")  # (emulator wording)
    return str(order_class)


def read_exits(
    body: dict[str, Any],
    order_class: str,
    *,
    order_type: str,
    time_in_force: str,
    fractional: bool,
    price: PriceReader,
) -> Exits | None:
    """The legs of a bracket / oco / oto request, or Alpaca's refusal; None for a simple order (whose
    take_profit / stop_loss Alpaca ignores)."""
    if order_class == "simple":
        return None
    if order_class in ("bracket", "oto") and order_type not in ("market", "limit"):
        raise errors.unprocessable(f"{order_class} orders must be entry orders")  # bracket: Alpaca's
    if order_class == "oco" and order_type != "limit":
        raise errors.unprocessable("oco orders must be limit orders")  # (emulator wording)
    if time_in_force not in ADVANCED_TIMES_IN_FORCE:
        raise errors.unprocessable(f"{order_class} orders must be DAY or GTC orders")  # (emulator wording)
    if body.get("extended_hours"):
        raise errors.unprocessable(f"{order_class} orders cannot be extended hours orders")  # (emulator)
    if fractional:
        raise errors.unprocessable(f"fractional orders cannot be {order_class} orders")  # (emulator)
    take_profit, stop_loss = _leg(body, "take_profit"), _leg(body, "stop_loss")
    exits = Exits(
        take_profit=price(take_profit, "limit_price", "take_profit.limit_price") if take_profit else None,
        stop_price=price(stop_loss, "stop_price", "stop_loss.stop_price") if stop_loss else None,
        stop_limit=price(stop_loss, "limit_price", "stop_loss.limit_price") if stop_loss else None,
    )
    if order_class == "oto" and take_profit is None and stop_loss is None:
        raise errors.invalid_parameter("oto orders require either take_profit or stop_loss")  # (emulator)
    if exits.take_profit is None and (order_class != "oto" or take_profit is not None):
        raise errors.invalid_parameter(f"{order_class} orders require take_profit.limit_price")
    if exits.stop_price is None and (order_class != "oto" or stop_loss is not None):
        raise errors.invalid_parameter(f"{order_class} orders require stop_loss.stop_price")  # (emulator)
    return exits


def _leg(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.invalid_parameter(f"invalid {name}")  # (emulator wording)
    return value


def check_base_prices(
    order_class: str, side: str, entry_limit: Decimal | None, exits: Exits, far_side: Decimal, last: Decimal
) -> None:
    """Alpaca's threshold: the take-profit beyond, and the stop short of, the base price by a cent."""
    if order_class == "oco":
        exit_side = side
        take_profit_base = last
        stop_bases = [exits.take_profit or last, last]
    else:
        exit_side = "sell" if side == "buy" else "buy"
        base = entry_limit if entry_limit is not None else far_side
        take_profit_base, stop_bases = base, [base]
    if exits.take_profit is not None:
        _beyond(exit_side, "take_profit.limit_price", exits.take_profit, take_profit_base)
    if exits.stop_price is not None:
        for stop_base in stop_bases:
            _short_of(exit_side, "stop_loss.stop_price", exits.stop_price, stop_base)


def _beyond(exit_side: str, name: str, value: Decimal, base: Decimal) -> None:
    """A take-profit sells above (buys below) the base price."""
    if exit_side == "sell" and value < base + CENT:
        raise errors.unprocessable(f"{name} must be >= base_price + 0.01")
    if exit_side == "buy" and value > base - CENT:
        raise errors.unprocessable(f"{name} must be <= base_price - 0.01")


def _short_of(exit_side: str, name: str, value: Decimal, base: Decimal) -> None:
    """A stop-loss sells below (buys above) the base price; the wording mirrors the take-profit's."""
    if exit_side == "sell" and value > base - CENT:
        raise errors.unprocessable(f"{name} must be <= base_price - 0.01")  # (emulator wording)
    if exit_side == "buy" and value < base + CENT:
        raise errors.unprocessable(f"{name} must be >= base_price + 0.01")  # (emulator wording)
