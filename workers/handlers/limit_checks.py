"""The desk's risk limits (messages/limits.py) against one trade: pure checks, each refusal naming the limit,
its value and what the trade would have made it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from messages.limits import RiskLimits
from messages.trade import Rejection, TradeRequest

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Usage:
    """What a trader, or an account, did so far: today's dollars each way, orders open now, orders sent in
    the last minute, and how long ago the same order (symbol, side, size) was last sent, if it was."""

    bought: Decimal = Decimal(0)
    sold: Decimal = Decimal(0)
    open_orders: int = 0
    last_minute: int = 0
    same_order_ago: timedelta | None = None


@dataclass(frozen=True)
class Exposure:
    """The trade's size in dollars, and the position it would leave in its symbol (None: unknown)."""

    cost: Decimal | None
    held: Decimal
    price: Decimal | None
    equity: Decimal | None = None

    def after(self, trade: TradeRequest) -> Decimal | None:
        size = trade.quantity
        if size is None and trade.notional is not None and self.price:
            size = trade.notional / self.price
        if size is None:
            return None
        return self.held + size if trade.side == "buy" else self.held - size


def limit_reasons(
    trade: TradeRequest,
    limits: RiskLimits,
    usage: Usage,
    exposure: Exposure,
    *,
    whose: str,
    quote: Decimal | None = None,
) -> list[Rejection]:
    """Every limit the trade would break in one scope; `whose` names it ("your", "the main account's")."""
    reasons = _daily_notional(trade, limits, usage, exposure.cost, whose)
    reasons += _counts(limits, usage, whose)
    reasons += _position(trade, limits, exposure, whose)
    collar = _collar(trade, limits, quote, whose)
    if collar is not None:
        reasons.append(collar)
    if (
        limits.duplicate_window_s is not None
        and not trade.confirmed
        and usage.same_order_ago is not None
        and usage.same_order_ago <= timedelta(seconds=limits.duplicate_window_s)
    ):
        ago = int(usage.same_order_ago.total_seconds())
        reasons.append(
            Rejection(
                field="trade",
                code="DUPLICATE_SUSPECTED",
                message=f"The same order ({trade.side} {trade.size_text} {trade.symbol}) was sent {ago}s "
                f"ago, within {whose} duplicate window of {limits.duplicate_window_s}s",
                next_step="If you mean a second one, send it again with `confirm` (`/trade … confirm`, "
                "`tradeflow submit … --confirm`)",
            )
        )
    return reasons


def _daily_notional(
    trade: TradeRequest, limits: RiskLimits, usage: Usage, cost: Decimal | None, whose: str
) -> list[Rejection]:
    limit = limits.daily_buy_notional if trade.side == "buy" else limits.daily_sell_notional
    if limit is None or cost is None:
        return []
    so_far = usage.bought if trade.side == "buy" else usage.sold
    total = so_far + cost
    if total <= limit:
        return []
    word = "bought" if trade.side == "buy" else "sold"
    room = max(limit - so_far, Decimal(0))
    return [
        Rejection(
            field="notional" if trade.notional is not None else "quantity",
            code="DAILY_BUY_NOTIONAL_LIMIT" if trade.side == "buy" else "DAILY_SELL_NOTIONAL_LIMIT",
            message=f"Dollars {word} today would reach ${total:,.2f}, over {whose} daily limit of "
            f"${limit:,.2f} (${so_far:,.2f} so far)",
            next_step=f"Keep this order to ${room:,.2f}, or ask an operator to raise the limit",
        )
    ]


def _counts(limits: RiskLimits, usage: Usage, whose: str) -> list[Rejection]:
    reasons = []
    if limits.max_open_orders is not None and usage.open_orders + 1 > limits.max_open_orders:
        reasons.append(
            Rejection(
                field="trade",
                code="OPEN_ORDERS_LIMIT",
                message=f"This would be open order {usage.open_orders + 1}, over {whose} limit of "
                f"{limits.max_open_orders} open at once",
                next_step="Wait for an order to fill, or cancel one (`/trade orders`)",
            )
        )
    if limits.max_orders_per_minute is not None and usage.last_minute + 1 > limits.max_orders_per_minute:
        reasons.append(
            Rejection(
                field="trade",
                code="ORDER_RATE_LIMIT",
                message=f"This would be order {usage.last_minute + 1} in the last minute, over {whose} "
                f"limit of {limits.max_orders_per_minute} a minute",
                next_step="Wait a minute and send it again",
            )
        )
    return reasons


def _position(trade: TradeRequest, limits: RiskLimits, exposure: Exposure, whose: str) -> list[Rejection]:
    after = exposure.after(trade)
    if after is None or abs(after) <= abs(exposure.held):
        return []  # a trade that shrinks the position never breaks a position limit
    reasons = []
    cap = limits.max_position_quantity
    if cap is not None and abs(after) > cap:
        reasons.append(
            Rejection(
                field="quantity",
                code="POSITION_LIMIT",
                message=f"The {trade.symbol} position would be {after.normalize():f} shares, over {whose} "
                f"limit of {cap.normalize():f}",
                next_step=f"Trade at most {max(cap - abs(exposure.held), Decimal(0)).normalize():f} shares",
            )
        )
    share = limits.max_position_equity_pct
    if share is not None and exposure.equity and exposure.price:
        pct = abs(after) * exposure.price / exposure.equity * HUNDRED
        if pct > share:
            reasons.append(
                Rejection(
                    field="quantity",
                    code="POSITION_EQUITY_LIMIT",
                    message=f"The {trade.symbol} position would be {pct:.1f}% of the account's equity "
                    f"(${exposure.equity:,.2f}), over {whose} limit of {share.normalize():f}%",
                    next_step="Lower the quantity",
                )
            )
    return reasons


def _collar(trade: TradeRequest, limits: RiskLimits, quote: Decimal | None, whose: str) -> Rejection | None:
    collar = limits.price_collar_pct
    if collar is None or not quote:
        return None
    for field, price in (("limit_price", trade.limit_price), ("stop_price", trade.stop_price)):
        if price is None:
            continue
        off = abs(price - quote) / quote * HUNDRED
        if off > collar:
            low, high = quote * (1 - collar / HUNDRED), quote * (1 + collar / HUNDRED)
            return Rejection(
                field=field,
                code="PRICE_COLLAR",
                message=f"The {field.replace('_', ' ')} ${price:,.2f} is {off:.1f}% from the last quote "
                f"${quote:,.2f}, beyond {whose} collar of {collar.normalize():f}%",
                next_step=f"Set it between ${low:,.2f} and ${high:,.2f}",
            )
    return None
