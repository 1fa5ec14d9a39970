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
# A desk's Alpaca paper account, by its name in the settings (TRADEFLOW_ALPACA_ACCOUNT[S]).
AccountName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,30}$")]
Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit", "stop", "stop_limit", "trailing_stop"]
TimeInForce = Literal["day", "gtc", "ioc", "fok"]
# simple: one order. bracket: an entry with a take-profit and a stop-loss exit; oto: an entry with one exit;
# oco: the two exits of a position held (the order is the take-profit limit, its leg the stop-loss).
OrderClass = Literal["simple", "bracket", "oco", "oto"]
LegKind = Literal["take_profit", "stop_loss"]
ExecutionMethod = Literal["alpaca", "simulation"]
# pending: recorded, no order sent yet. working: the order rests at the stock broker (a limit not yet
# crossed, or partly filled). unknown: the order request may have reached the stock broker, but it could not
# be found yet; reconciliation settles it. awaiting_approval: above the desk's approval threshold, it waits
# for an approver's decision before anything is sent (handlers/approvals/). The last three are terminal.
TradeStatus = Literal["awaiting_approval", "pending", "working", "unknown", "executed", "failed", "rejected"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"executed", "failed", "rejected"})
OPEN_STATUSES: frozenset[str] = frozenset({"awaiting_approval", "pending", "working", "unknown"})
# The open trades the execution stage and the sweeper settle with the stock broker: never one awaiting
# approval, which has no order yet and moves only by a decision.
SETTLEABLE_STATUSES: frozenset[str] = frozenset({"pending", "working", "unknown"})

# Orders that need a limit price, a stop price, or both.
NEEDS_LIMIT_PRICE: frozenset[str] = frozenset({"limit", "stop_limit"})
NEEDS_STOP_PRICE: frozenset[str] = frozenset({"stop", "stop_limit"})
# Alpaca's rules for the richer orders: a notional (dollar) order is a day market order; extended hours take
# day limit orders (Alpaca's "Extended Hours orders" table: GTC is not eligible); a trailing stop trails by a
# price or a percent, day or gtc.
NOTIONAL_ORDER_TYPES: frozenset[str] = frozenset({"market"})
EXTENDED_HOURS_ORDER_TYPES: frozenset[str] = frozenset({"limit"})
EXTENDED_HOURS_TIMES_IN_FORCE: frozenset[str] = frozenset({"day"})
TRAILING_TIMES_IN_FORCE: frozenset[str] = frozenset({"day", "gtc"})
MAX_TRAIL_PERCENT = Decimal(100)
ENTRY_ORDER_TYPES: frozenset[str] = frozenset({"market", "limit"})  # a bracket's or an oto's entry
ADVANCED_TIMES_IN_FORCE: frozenset[str] = frozenset({"day", "gtc"})


# What a trader may type as a quantity or a price, at every boundary (the form, the slash command, the CLI,
# the wire): at most 9 decimal places (Alpaca's fractional shares go to 9) and 12 digits before the point.
# Anything beyond is refused where it is typed, never carried: `9E+999999` overflows quantity × price and
# `1E-200` is below what DynamoDB stores. Within them, a product of two amounts is exact in 28 digits.
MAX_DECIMAL_PLACES = 9
MAX_INTEGER_DIGITS = 12
AMOUNT_BOUNDS = (
    f"at most {MAX_INTEGER_DIGITS} digits before the decimal point and {MAX_DECIMAL_PLACES} after it"
)


def amount_problem(value: Decimal) -> str | None:
    """Why `value` cannot be a quantity or price (not finite, not positive, out of bounds), or None."""
    if not value.is_finite():
        return "must be a finite number"
    if value <= 0:
        return "must be greater than 0"
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    places = max(0, -(exponent + trailing_zeros))  # 1.500 has one place, not three
    if places > MAX_DECIMAL_PLACES or value.adjusted() >= MAX_INTEGER_DIGITS:
        return f"must have {AMOUNT_BOUNDS}"
    return None


def require_amount(name: str, value: Decimal | None) -> None:
    """Refuse a quantity or price that is not a positive amount within the bounds, naming the field."""
    if value is None:
        return
    problem = amount_problem(value)
    if problem is not None:
        shown = str(value)
        raise ValueError(f"{name} {problem}, got {shown if len(shown) <= 24 else shown[:20] + '…'}")


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
