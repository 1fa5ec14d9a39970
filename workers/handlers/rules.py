"""Pre-trade rules: pure checks that turn a trade into the reasons it must be refused."""

from __future__ import annotations

from decimal import Decimal

from messages.records import KillSwitch, Position
from messages.trade import Rejection, TradeRequest
from workers.handlers.deps import TradingPolicy


def check_trade(
    trade: TradeRequest,
    policy: TradingPolicy,
    *,
    kill_switch: KillSwitch,
    position: Position | None,
    reference_price: Decimal | None,
) -> list[Rejection]:
    """Every reason to refuse the trade, each saying what the trader can change; empty when it may go."""
    reasons: list[Rejection] = []
    if trade.user_id not in policy.traders:
        reasons.append(
            Rejection(
                field="user_id",
                code="NOT_A_TRADER",
                message=f"{trade.user_id} does not have the trader role. Ask an admin to grant it.",
            )
        )
    if kill_switch.engaged:
        why = f": {kill_switch.reason}" if kill_switch.reason else ""
        reasons.append(
            Rejection(
                field="trade",
                code="TRADING_HALTED",
                message=f"Trading is halted{why}. Try again once operators resume trading.",
            )
        )
    if trade.symbol not in policy.symbols:
        sample = ", ".join(sorted(policy.symbols)[:12])
        reasons.append(
            Rejection(
                field="symbol",
                code="SYMBOL_NOT_ALLOWED",
                message=f"{trade.symbol} is not on the tradable list. Pick one of: {sample}…",
            )
        )
    if trade.quantity > policy.max_quantity:
        reasons.append(
            Rejection(
                field="quantity",
                code="QUANTITY_TOO_LARGE",
                message=f"Quantity {trade.quantity} is above the limit of {policy.max_quantity} per trade. "
                "Split the order or lower the quantity.",
            )
        )
    price = trade.limit_price or trade.stop_price or reference_price
    if price is not None and trade.quantity * price > policy.max_notional:
        reasons.append(
            Rejection(
                field="quantity",
                code="NOTIONAL_TOO_LARGE",
                message=f"Notional ${trade.quantity * price:,.2f} is above the limit of "
                f"${policy.max_notional:,.2f} per trade. Lower the quantity.",
            )
        )
    if trade.side == "sell" and not policy.allow_short:
        held = position.quantity if position else Decimal(0)
        if trade.quantity > held:
            reasons.append(
                Rejection(
                    field="quantity",
                    code="INSUFFICIENT_POSITION",
                    message=f"You hold {held} {trade.symbol}; you can sell at most {max(held, Decimal(0))}. "
                    "Short selling is not enabled.",
                )
            )
    return reasons
