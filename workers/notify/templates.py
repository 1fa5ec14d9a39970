"""The seed's success and failure messages as plain text (Slack's fallback text and the log notifier)."""

from __future__ import annotations

from decimal import Decimal

from messages.events import (
    CancelRefused,
    PositionUpdated,
    TradeFailed,
    TradeHeld,
    TradeRejected,
    TradeWorking,
)
from messages.trade import TradeRequest
from workers.handlers.rate_waits import is_rate_limit_hold

METHOD_LABELS = {"alpaca": "🧪 Alpaca Paper Trading", "simulation": "🎲 Simulation"}

# Next steps by error code; the trade id is always the last one, so support can find the trade.
NEXT_STEPS = {
    "MARKET_CLOSED": "Check market hours and try again",
    "LIMIT_NOT_MARKETABLE": "Adjust the limit price toward the market, or use a market order",
    "STOP_NOT_TRIGGERED": "Check the stop price against the market, or use a market order",
    "INSUFFICIENT_BUYING_POWER": "Reduce the quantity or free up buying power",
    "SYMBOL_NOT_TRADABLE": "Pick a symbol that is tradable at the stock broker",
    "FILL_TIMEOUT": "Check market hours and liquidity, then try again",
    "BROKER_UNAVAILABLE": "Try again in a few minutes",
    "ORDER_REJECTED": "Check the order against the error above, then submit again",
    "TRADING_HALTED": "Wait for operators to resume trading",
    "NOT_A_TRADER": "Ask an admin for the trader role",
    "NOT_EXECUTED": "Nothing reached Alpaca: submit the trade again, or ask an operator to replay it",
}
HELD_DELAYED_STATUS = (
    "The trade store is not answering; your trade waits and goes on by itself when it is back. "
    "You will be told the outcome; nothing is placed twice."
)
RATE_LIMITED_STATUS = (
    "Alpaca's rate limit holds your trade: it waits its turn in the queue and goes on by itself as the "
    "account's requests free up. You will be told the outcome; nothing is placed twice or simulated."
)
DEFAULT_NEXT_STEP = "Review the error and try again"
FAILURE_TITLE = "❌ Trade Execution Failed"
# A trade that ended because its trader changed it is no failure to them: said as what it is.
ENDED_ON_REQUEST_TITLES = {"ORDER_REPLACED": "✏️ Order Modified", "EXIT_CANCELED": "ℹ️ Exit Canceled"}


def partial_fill_text(filled: Decimal, ordered: Decimal) -> str:
    """An order that ended part filled (canceled, expired or replaced after a fill): what the position got."""
    return f"{filled} of {ordered} shares; the rest was not filled (the order ended first)"


def part_filled(trade: TradeRequest, filled: Decimal) -> str | None:
    """The "Filled" line of an order that ended with less than it asked for (None: it filled whole, or it
    asked for dollars, whose shares are whatever they bought)."""
    if trade.quantity is None or filled >= trade.quantity:
        return None
    return partial_fill_text(filled, trade.quantity)


def size_label(trade: TradeRequest) -> tuple[str, str]:
    """The trade's size as the seed's "Quantity" field, or "Amount" for a dollar-amount order."""
    if trade.notional is not None:
        return "Amount", f"${trade.notional:,.2f} (fractional shares)"
    quantity = trade.quantity
    return "Quantity", f"{quantity} share{'' if quantity == 1 else 's'}"


def order_terms(trade: TradeRequest) -> str | None:
    """A resting order's terms (type, prices, trail, time in force, extended hours); None for a plain market
    order."""
    if trade.order_type == "market" and not trade.extended_hours and trade.order_class == "simple":
        return None
    prices = [
        f"{name} ${price}"
        for name, price in (
            ("limit", trade.limit_price),
            ("stop", trade.stop_price),
            ("trail", trade.trail_price),
        )
        if price is not None
    ]
    if trade.trail_percent is not None:
        prices.append(f"trail {trade.trail_percent}%")
    terms = trade.order_type.replace("_", " ") + (f" ({', '.join(prices)})" if prices else "")
    terms += f", {trade.time_in_force}"
    terms += ", extended hours" if trade.extended_hours else ""
    return terms + _exits_text(trade)


def _exits_text(trade: TradeRequest) -> str:
    """A bracket's, OTO's or OCO's exits, or which exit of which trade a leg is."""
    if trade.leg is not None:
        return f"; the {trade.leg.replace('_', '-')} exit of trade {trade.parent_trade_id}"
    if trade.order_class == "simple":
        return ""
    exits = []
    if trade.take_profit_price is not None:
        exits.append(f"take-profit ${trade.take_profit_price}")
    if trade.stop_loss_price is not None:
        limit = trade.stop_loss_limit_price
        exits.append(
            f"stop-loss ${trade.stop_loss_price}" + (f" (limit ${limit})" if limit is not None else "")
        )
    return (
        f"; {trade.order_class.upper() if trade.order_class != 'bracket' else 'bracket'}: {', '.join(exits)}"
    )


def failure_title(code: str) -> str:
    return ENDED_ON_REQUEST_TITLES.get(code, FAILURE_TITLE)


def held_status(event: TradeHeld) -> str:
    """Why a delayed trade waits: the store's outage, or Alpaca's rate limit."""
    return RATE_LIMITED_STATUS if is_rate_limit_hold(event.reason) else HELD_DELAYED_STATUS


REJECTION_NEXT_STEP = "Fix the fields above and submit again"


def _trade_details(trade: TradeRequest) -> list[str]:
    lines = [
        "Trade Details:",
        f"• Symbol: {trade.symbol}",
        f"• Type: {trade.side.upper()}",
        "• {}: {}".format(*size_label(trade)),
    ]
    terms = order_terms(trade)
    if terms is not None:
        lines.append(f"• Order: {terms}")
    lines.append(f"• Trade ID: {trade.trade_id}")
    return lines


def _duration(ms: Decimal) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{(ms / 1000):.1f}s"


def success_text(event: PositionUpdated) -> str:
    execution, position = event.execution, event.position
    lines = [
        "✅ Trade Executed Successfully",
        "",
        *_trade_details(event.trade),
        "",
        "Execution Details:",
        f"• Method: {METHOD_LABELS[execution.execution_method]}",
    ]
    if execution.alpaca_order_id:
        lines.append(f"• Alpaca Order ID: {execution.alpaca_order_id}")
    partial = part_filled(event.trade, execution.filled_quantity)
    if partial is not None:
        lines.append(f"• Filled: {partial}")
    elif event.trade.notional is not None:
        lines.append(f"• Filled: {execution.filled_quantity} shares")
    lines += [
        f"• Execution Price: ${execution.execution_price:,.2f}",
        f"• Execution Time: {_duration(execution.execution_time_ms)}",
        f"• Slippage: {execution.slippage_bps:.2f} bps",
        f"• Position: {position.quantity} {position.symbol} @ ${position.average_cost:,.2f} avg",
        "",
        "📊 Check your portfolio in the App Home tab for updated positions.",
    ]
    return "\n".join(lines)


def failure_text(event: TradeFailed) -> str:
    error = event.error
    steps = [*error.next_steps] or [NEXT_STEPS.get(error.code, DEFAULT_NEXT_STEP)]
    lines = [
        failure_title(error.code),
        "",
        *_trade_details(event.trade),
        "",
        "Error Information:",
        f"• Error: {error.message}",
        f"• Error Code: {error.code}",
    ]
    if error.execution_method:
        lines.append(f"• Method: {METHOD_LABELS[error.execution_method]}")
    if error.alpaca_order_id:
        lines.append(f"• Alpaca Order ID: {error.alpaca_order_id}")
    lines += [
        "",
        "💡 Next Steps:",
        *(f"• {s}" for s in steps),
        "• Contact support if the issue persists",
        f"• Reference Trade ID: {event.trade.trade_id}",
    ]
    return "\n".join(lines)


def rejection_steps(event: TradeRejected) -> list[str]:
    """What the trader can do, once each: every reason's own next step, else its code's."""
    return list(
        dict.fromkeys(r.next_step or NEXT_STEPS.get(r.code, REJECTION_NEXT_STEP) for r in event.reasons)
    )


def rejection_text(event: TradeRejected) -> str:
    """The seed's failure notice, one Error and Error Code line per reason, the guidance under Next Steps."""
    lines = ["❌ Trade Execution Failed", "", *_trade_details(event.trade), "", "Error Information:"]
    for reason in event.reasons:
        lines += [f"• Error: {reason.message}", f"• Error Code: {reason.code}"]
    steps = rejection_steps(event)
    lines += [
        "",
        "💡 Next Steps:",
        *(f"• {s}" for s in steps),
        "• Contact support if the issue persists",
        f"• Reference Trade ID: {event.trade.trade_id}",
    ]
    return "\n".join(lines)


def working_text(event: TradeWorking) -> str:
    if event.state == "working":
        title = "🕐 Order Accepted, Working"
        status = "The order rests at Alpaca until the market reaches your price; you will hear when it fills."
    else:
        title = "⏳ Order Status Being Confirmed"
        status = (
            "Alpaca did not confirm the order in time; it is being looked up and will never be placed twice."
        )
    lines = [title, "", *_trade_details(event.trade), "", "Order Status:", f"• {status}"]
    if event.alpaca_order_id:
        lines.append(f"• Alpaca Order ID: {event.alpaca_order_id}")
    filled = sum((f.quantity for f in event.fills), Decimal(0))
    if filled:
        of = f" of {event.trade.quantity}" if event.trade.quantity is not None else ""
        lines.append(f"• Filled so far: {filled}{of} shares")
    lines.append(f"• Reference Trade ID: {event.trade.trade_id}")
    return "\n".join(lines)


CANCEL_REFUSED_TITLE = "⚠️ Cancel Not Done"


def cancel_refused_text(event: CancelRefused) -> str:
    """Why a cancel came to nothing: the order had filled or ended first (its own notice says how)."""
    lines = [CANCEL_REFUSED_TITLE, "", *_trade_details(event.trade), "", "Cancel:"]
    lines += [
        f"• {event.message}",
        f"• Error Code: {event.code}",
        f"• Reference Trade ID: {event.trade.trade_id}",
    ]
    return "\n".join(lines)


def held_text(event: TradeHeld) -> str:
    """A trade held before it was recorded: delayed (it goes on), or not executed (the failure layout)."""
    if event.state == "delayed":
        lines = ["⏳ Trade Delayed", "", *_trade_details(event.trade), "", "Order Status:"]
        lines += [f"• {held_status(event)}", f"• Reference Trade ID: {event.trade.trade_id}"]
        return "\n".join(lines)
    lines = [
        "❌ Trade Execution Failed",
        "",
        *_trade_details(event.trade),
        "",
        "Error Information:",
        "• Error: Not executed",
        "• Error Code: NOT_EXECUTED",
        "",
        "💡 Next Steps:",
        f"• {NEXT_STEPS['NOT_EXECUTED']}",
        "• Contact support if the issue persists",
        f"• Reference Trade ID: {event.trade.trade_id}",
    ]
    return "\n".join(lines)
