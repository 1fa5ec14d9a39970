"""Pre-trade rules: pure checks that turn a trade into the reasons it must be refused."""

from __future__ import annotations

from decimal import Decimal

from brokers.port import MarketConditions
from messages.records import KillSwitch, Position
from messages.trade import Rejection, TradeRequest
from workers.handlers.deps import TradingPolicy


def check_trade(
    trade: TradeRequest,
    policy: TradingPolicy,
    *,
    is_trader: bool,
    kill_switch: KillSwitch,
    position: Position | None,
    reference_price: Decimal | None,
    market: MarketConditions | None = None,
) -> list[Rejection]:
    """Every reason to refuse the trade, each saying what the trader can change; empty when it may go."""
    reasons: list[Rejection] = []
    if not is_trader:
        reasons.append(
            Rejection(
                field="user_id",
                code="NOT_A_TRADER",
                message=f"{trade.user_id} does not have the trader role",
                next_step="Ask an admin to grant you the trader role",
            )
        )
    if kill_switch.engaged:
        why = f": {kill_switch.reason}" if kill_switch.reason else ""
        reasons.append(
            Rejection(
                field="trade",
                code="TRADING_HALTED",
                message=f"Trading is halted{why}",
                next_step="Try again once operators resume trading",
            )
        )
    if policy.symbols and trade.symbol not in policy.symbols:
        sample = ", ".join(sorted(policy.symbols)[:12])
        reasons.append(
            Rejection(
                field="symbol",
                code="SYMBOL_NOT_ALLOWED",
                message=f"{trade.symbol} is not on the tradable list",
                next_step=f"Pick one of: {sample}…",
            )
        )
    if trade.quantity > policy.max_quantity:
        reasons.append(
            Rejection(
                field="quantity",
                code="QUANTITY_TOO_LARGE",
                message=f"Quantity {trade.quantity} is above the limit of {policy.max_quantity} per trade",
                next_step="Split the order or lower the quantity",
            )
        )
    price = trade.limit_price or trade.stop_price or reference_price
    if price is not None and trade.quantity * price > policy.max_notional:
        reasons.append(
            Rejection(
                field="quantity",
                code="NOTIONAL_TOO_LARGE",
                message=f"Notional ${trade.quantity * price:,.2f} is above the limit of "
                f"${policy.max_notional:,.2f} per trade",
                next_step="Lower the quantity",
            )
        )
    if trade.side == "sell" and not policy.allow_short:
        held = position.quantity if position else Decimal(0)
        if trade.quantity > held:
            reasons.append(
                Rejection(
                    field="quantity",
                    code="INSUFFICIENT_POSITION",
                    message=f"You hold {held} {trade.symbol}; you can sell at most {max(held, Decimal(0))}",
                    next_step="Sell at most what you hold: short selling is not enabled",
                )
            )
    if market is not None:
        reasons += _market_reasons(trade, market, price)
    return reasons


def _market_reasons(trade: TradeRequest, market: MarketConditions, price: Decimal | None) -> list[Rejection]:
    """What the stock broker says: tradable, open for this kind of order, enough buying power."""
    reasons: list[Rejection] = []
    if not market.listed:
        reasons.append(
            Rejection(
                field="symbol",
                code="SYMBOL_UNKNOWN",
                message=f"{(market.source or 'the stock broker').capitalize()} lists no asset {trade.symbol}",
                next_step="Check the ticker (e.g. BRK.B, not BRKB)",
            )
        )
    elif not market.tradable:
        reasons.append(
            Rejection(
                field="symbol",
                code="SYMBOL_NOT_TRADABLE",
                message=f"{trade.symbol} is not tradable at the stock broker right now",
                next_step="Pick another symbol",
            )
        )
    elif trade.quantity != trade.quantity.to_integral() and not market.fractionable:
        reasons.append(
            Rejection(
                field="quantity",
                code="QUANTITY_NOT_FRACTIONABLE",
                message=f"{trade.symbol} cannot be traded in fractional shares",
                next_step="Use a whole quantity",
            )
        )
    # Market orders never rest while the market is closed; a limit or stop order may, if it is gtc.
    resting_allowed = trade.order_type != "market" and trade.time_in_force == "gtc"
    if not market.market_open and not resting_allowed:
        opens = f" (it opens at {market.next_open:%Y-%m-%d %H:%M %Z})" if market.next_open else ""
        reasons.append(
            Rejection(
                field="order_type",
                code="MARKET_CLOSED",
                message="Market is closed",
                next_step=f"Check market hours and try again{opens}, or place a limit order with time in "
                "force gtc",
            )
        )
    if trade.side == "buy" and market.buying_power is not None and price is not None:
        notional = trade.quantity * price
        if notional > market.buying_power:
            reasons.append(
                Rejection(
                    field="quantity",
                    code="INSUFFICIENT_BUYING_POWER",
                    message=f"The order needs ${notional:,.2f} but buying power is "
                    f"${market.buying_power:,.2f}",
                    next_step="Reduce the quantity",
                )
            )
    return reasons
