"""Position arithmetic: apply a fill to a long or short position. Pure functions, no I/O."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from messages.records import Position
from messages.types import Side

AVERAGE_COST_QUANTUM = Decimal("0.000001")
REALIZED_PNL_QUANTUM = Decimal("0.0001")
ZERO = Decimal(0)


def signed_quantity(side: Side, quantity: Decimal) -> Decimal:
    """Return the fill's quantity as a change in position: positive for a buy, negative for a sell."""
    if side == "buy":
        return quantity
    if side == "sell":
        return -quantity
    raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")


def projected_quantity(position: Position, side: Side, quantity: Decimal) -> Decimal:
    """Return the position's quantity after a fill of `quantity` on `side` (negative means short)."""
    return position.quantity + signed_quantity(side, quantity)


def apply_fill(
    position: Position,
    *,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    trade_id: uuid.UUID,
    at: datetime,
) -> Position:
    """Return the position after a fill of `quantity` at `price`; the version is left for the store to bump.

    - Adding in the position's direction (or opening from flat) moves the average cost to the
      quantity-weighted mean of the old cost and the fill price.
    - Reducing realizes P&L on the closed quantity: `(price - average_cost) * closed` for a long,
      `(average_cost - price) * closed` for a short; the average cost of what is left is unchanged.
    - Crossing through zero closes the old side (realizing its P&L) and opens the remainder at `price`.
    - A flat position has an average cost of 0.

    Quantity stays exact. The average cost is quantized to 6 dp and the realized P&L to 4 dp, both with
    banker's rounding (ROUND_HALF_EVEN), so repeated fills cannot drift in one direction.
    """
    if not quantity.is_finite() or quantity <= 0:
        raise ValueError(f"quantity must be greater than 0, got {quantity}")
    if not price.is_finite() or price <= 0:
        raise ValueError(f"price must be greater than 0, got {price}")
    change = signed_quantity(side, quantity)
    held = position.quantity
    new_quantity = held + change
    average_cost = position.average_cost
    realized = position.realized_pnl

    if held == 0 or (held > 0) == (change > 0):
        held_cost = abs(held) * average_cost
        average_cost = _quantize_cost((held_cost + quantity * price) / abs(new_quantity))
    else:
        closed = min(quantity, abs(held))
        per_share = price - average_cost if held > 0 else average_cost - price
        realized = (realized + per_share * closed).quantize(REALIZED_PNL_QUANTUM, rounding=ROUND_HALF_EVEN)
        if new_quantity == 0:
            average_cost = ZERO
        elif quantity > closed:
            average_cost = _quantize_cost(price)

    return Position(
        user_id=position.user_id,
        symbol=position.symbol,
        account=position.account,
        quantity=new_quantity,
        average_cost=average_cost,
        realized_pnl=realized,
        version=position.version,
        updated_at=at,
        last_trade_id=trade_id,
    )


def _quantize_cost(value: Decimal) -> Decimal:
    return value.quantize(AVERAGE_COST_QUANTUM, rounding=ROUND_HALF_EVEN)
