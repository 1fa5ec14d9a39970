"""Trailing stop orders: the high-water mark (`hwm`) and the stop price it drags along.

What Alpaca documents ("Placing Orders" › Trailing Stop Orders): the order keeps "the highest (for sell,
lowest for buy) prices (called high water mark, or hwm) since the order was submitted"; with
`trail_price` the stop is `hwm - trail_price` for a sell (`hwm + trail_price` for a buy), with
`trail_percent` it is `hwm * (1 - trail_percent / 100)` (`hwm * (1 + …)` for a buy); `stop_price` "is
derived from hwm and trail parameter, and continuously updates as hwm changes". Once the stop is crossed
"the order turns into a market order". It "will not trigger outside of the regular market hours", takes
time_in_force day or gtc, is never an extended-hours order, and "trailing stop orders are currently
supported only with single orders" (no trailing stop-loss leg in a bracket or oco). A replace (PATCH)
may change `trail`, never from price to percent or back.

The emulator's choices: the mark is the last trade; it starts when the order goes to market (so the
submit answer, taken before, shows `hwm` and `stop_price` null); the stop is rounded to the cent, away
from the market (down for a sell, up for a buy), so it never triggers earlier than the exact stop would.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from emulators.alpaca.formats import CENT
from emulators.alpaca.orders import Order

HUNDRED = Decimal(100)


def track(order: Order, last: Decimal) -> None:
    """Move the order's high- (low-) water mark with the last trade, and its stop price with it."""
    if order.hwm is None:
        order.hwm = last
    elif order.side == "sell":
        order.hwm = max(order.hwm, last)
    else:
        order.hwm = min(order.hwm, last)
    order.stop_price = stop_price(order, order.hwm)


def stop_price(order: Order, hwm: Decimal) -> Decimal:
    trail = order.trail_price if order.trail_price is not None else hwm * (order.trail_percent or 0) / HUNDRED
    if order.side == "sell":
        return (hwm - trail).quantize(CENT, rounding=ROUND_FLOOR)
    return (hwm + trail).quantize(CENT, rounding=ROUND_CEILING)
