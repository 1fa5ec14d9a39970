"""Order groups at run time: the legs of a bracket, oco or oto order, from submission to the last exit.

What Alpaca documents ("Placing Orders" › Bracket / OCO / OTO Orders) and what its users have seen:
- The submission creates every order of the group at once; each leg has its own id and client_order_id
  and the parent's `order_class`. A bracket's exits are the entry's opposite side and quantity, with its
  time_in_force; an oco's one leg is its stop-loss, the oco order itself being the take-profit.
- The exits "won't be active until the first order is completely filled": until then they are `held`.
  Once it has filled, a bracket's take-profit goes to market (`new`) while its stop-loss stays `held`,
  watched for its stop: only one order at a time can hold the position's shares
  (alpacahq/alpaca-trade-api-js#87, alpacahq/alpaca-trade-api-python#322, alpacahq/alpaca-py#198 all
  show a filled entry, a `new` take-profit and a `held` stop-loss). An oto's single exit goes `new`.
- When the stop is hit, the stop-loss goes to market (`new`, then its fills) and the take-profit is
  canceled; when the take-profit fills, the stop-loss is canceled ("Once one of the exit orders is
  filled, the other is canceled"). A partial fill of the take-profit leaves the stop-loss for what remains
  ("the stop-loss order will be adjusted to the remaining quantity").
- "If any one of the orders is canceled, any remaining open order in the group is canceled."
- Replacing a leg (its limit_price or stop_price) keeps the group; an oto cannot be replaced yet.
Every change is a `trade_updates` event carrying that order's own object. The emulator's choices: the
take-profit's cancel is `pending_cancel` then `canceled`, like any cancel (alpaca-py#198 saw a `replaced`
take-profit when the stop filled; the emulator does not model that replacement).
"""

from __future__ import annotations

import uuid
from typing import Protocol

from emulators.alpaca import errors
from emulators.alpaca.orders import HELD, Order
from emulators.alpaca.validation import OrderTicket


class Market(Protocol):
    """What the engine offers the legs (engine.ExecutionEngine)."""

    def cancel(self, order: Order, *, cascade: bool = True) -> None: ...

    def go_live(self, order: Order) -> None: ...


def build_legs(parent: Order, ticket: OrderTicket) -> list[Order]:
    """The exit orders of `parent`'s group, held, in Alpaca's order: take-profit, then stop-loss."""
    exits = ticket.exits
    if exits is None:
        return []
    parent.order_class = ticket.order_class
    side = parent.side if ticket.order_class == "oco" else ("sell" if parent.side == "buy" else "buy")
    intent = "sell_to_close" if side == "sell" else "buy_to_close"
    legs = []
    if exits.take_profit is not None and ticket.order_class != "oco":
        legs.append(_leg(parent, side, intent, "limit", limit=exits.take_profit, stop=None))
    if exits.stop_price is not None:
        kind = "stop" if exits.stop_limit is None else "stop_limit"
        legs.append(_leg(parent, side, intent, kind, limit=exits.stop_limit, stop=exits.stop_price))
    parent.legs = legs
    if ticket.order_class == "oco":
        legs[0].armed = True  # the position is already there: the stop is watched from the start
    return legs


def _leg(parent: Order, side: str, intent: str, kind: str, *, limit: object, stop: object) -> Order:
    return Order(
        client_order_id=str(uuid.uuid4()),
        asset=parent.asset,
        side=side,
        type=kind,
        time_in_force=parent.time_in_force,
        qty=parent.qty,
        notional=None,
        limit_price=limit,  # type: ignore[arg-type]
        stop_price=stop,  # type: ignore[arg-type]
        extended_hours=False,
        position_intent=intent,
        expires_at=parent.expires_at,
        status=HELD,
        order_class=parent.order_class,
        parent=parent,
    )


def exits_of(order: Order) -> list[Order]:
    """The exit orders of `order`'s group: an oco's two, a bracket's or oto's legs."""
    root = order.parent or order
    return [root, *root.legs] if root.order_class == "oco" else list(root.legs)


def group_of(order: Order) -> list[Order]:
    root = order.parent or order
    return [root, *root.legs]


def is_entry(order: Order) -> bool:
    return order.parent is None and order.order_class in ("bracket", "oto")


def after_execution(market: Market, order: Order, done: bool) -> None:
    """An order of a group executed: a filled entry releases its exits; an exit's fill ends the others."""
    if order.order_class == "simple":
        return
    if is_entry(order):
        if done:
            _release(market, order.legs)
        return
    for sibling in exits_of(order):
        if sibling is order or not sibling.is_open:
            continue
        if done:
            market.cancel(sibling, cascade=False)
        else:  # the other exit covers what is left of the position
            sibling.qty = order.remaining_qty()


def _release(market: Market, legs: list[Order]) -> None:
    for leg in legs:
        if leg.type == "limit" or len(legs) == 1:
            market.go_live(leg)
        else:
            leg.armed = True


def stop_hit(market: Market, leg: Order) -> None:
    """A held stop-loss's stop was crossed: the other exit is canceled and the stop-loss goes to market."""
    for sibling in exits_of(leg):
        if sibling is not leg and sibling.is_open:
            market.cancel(sibling, cascade=False)
    market.go_live(leg)


def blocks_stop(leg: Order) -> bool:
    """True while another exit of the group is in the middle of a fill (it wins the race)."""
    return any(o.executing for o in exits_of(leg) if o is not leg)


def after_cancel(market: Market, order: Order) -> None:
    """Canceling one order of a group cancels every other open order in it."""
    if order.order_class == "simple":
        return
    for member in group_of(order):
        if member is not order and member.is_open:
            market.cancel(member, cascade=False)


def check_replaceable(order: Order) -> None:
    if order.order_class == "oto":
        raise errors.unprocessable("oto orders cannot be replaced")  # (emulator wording)


def adopt(old: Order, new: Order) -> None:
    """`new` replaces `old` in its group: same parent or legs, same class, held if `old` was."""
    new.order_class, new.armed = old.order_class, old.armed
    if old.parent is not None:
        new.parent = old.parent
        old.parent.legs = [new if leg is old else leg for leg in old.parent.legs]
    new.legs = old.legs
    for leg in new.legs:
        leg.parent = new
    if old.status == HELD:
        new.status = HELD
