"""The seed's messages and the trade modal's later states as Block Kit: pure dicts, no I/O.

Each message builder returns `(blocks, text)`: the blocks carry every field of the seed's message, and
`text` is the plain message of workers/notify/templates.py (Slack shows it in notifications and where
blocks cannot be shown). Every text is escaped for mrkdwn and clipped to Block Kit's limits.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from messages.events import (
    CancelRefused,
    PositionUpdated,
    TradeFailed,
    TradeHeld,
    TradeRejected,
    TradeWorking,
)
from messages.trade import TradeRequest
from workers.handlers.ports import Outcome
from workers.notify.templates import (
    CANCEL_REFUSED_TITLE,
    DEFAULT_NEXT_STEP,
    METHOD_LABELS,
    NEXT_STEPS,
    _duration,
    cancel_refused_text,
    failure_text,
    failure_title,
    held_status,
    held_text,
    order_terms,
    part_filled,
    rejection_steps,
    rejection_text,
    size_label,
    success_text,
    working_text,
)

Block = dict[str, Any]
Blocks = list[Block]

# Block Kit's limits (https://api.slack.com/reference/block-kit/blocks).
HEADER_TEXT_MAX = 150
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
FIELDS_PER_SECTION = 10
CONTEXT_ELEMENTS_MAX = 10
VIEW_BLOCKS_MAX = 100
VIEW_TITLE_MAX = 24
# A rejection lists at most this many reasons in blocks (two fields each); the text lists them all.
REASONS_SHOWN_MAX = 20

APP_HOME_POINTER = "📊 Check your portfolio in the App Home tab for updated positions."
CONTACT_SUPPORT = "Contact support if the issue persists"
WORKING_STATUS = {
    "working": (
        "🕐 Order Accepted, Working",
        "The order rests at Alpaca until the market reaches your price; you will hear when it fills.",
    ),
    "unknown": (
        "⏳ Order Status Being Confirmed",
        "Alpaca did not confirm the order in time; it is being looked up and will never be placed twice.",
    ),
}


# --- Text and block primitives ---------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape the three characters mrkdwn gives meaning to (a broker's message is not ours to trust)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(raw: str, limit: int) -> str:
    """`raw` escaped for mrkdwn and clipped to `limit`, never cutting an escape in half."""
    escaped = escape(raw)
    while len(escaped) > limit:
        raw = raw[: len(raw) - (len(escaped) - limit) - 1]
        escaped = escape(raw) + "…"
    return escaped


def plain_text(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> Block:
    """A mrkdwn text object of text already escaped (it may carry our own formatting), clipped to `limit`."""
    return {"type": "mrkdwn", "text": clip(text, limit)}


def header(text: str) -> Block:
    return {"type": "header", "text": plain_text(text, HEADER_TEXT_MAX)}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:CONTEXT_ELEMENTS_MAX]]}


def field(label: str, value: str) -> str:
    """One section field: a bold label over its value (the value already escaped)."""
    return clip(f"*{label}:*\n{value}", FIELD_TEXT_MAX)


def field_sections(title: str, fields: list[str]) -> Blocks:
    """A titled group of fields, split into sections of at most ten fields."""
    chunks = [fields[i : i + FIELDS_PER_SECTION] for i in range(0, len(fields), FIELDS_PER_SECTION)]
    sections: Blocks = [section(f"*{title}*")]
    for number, chunk in enumerate(chunks):
        if number > 0:
            sections.append({"type": "section"})  # a section may hold fields alone
        sections[-1]["fields"] = [mrkdwn(f, FIELD_TEXT_MAX) for f in chunk]
    return sections


def code(value: object) -> str:
    """An identifier in code style, so it reads and copies as one piece."""
    return f"`{fit(str(value), FIELD_TEXT_MAX - 40)}`"


def money(value: Decimal) -> str:
    """Dollars with two decimals, rounded half-even as the text messages are: `$1,234.50`."""
    return f"${value:,.2f}"


def signed_money(value: Decimal) -> str:
    """A profit or loss with its sign: `+$95.00`, `-$12.30`, `$0.00`."""
    cents = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    sign = "+" if cents > 0 else "-" if cents < 0 else ""
    return f"{sign}{money(abs(cents))}"


def quantity_text(quantity: Decimal) -> str:
    """A quantity without exponent or trailing zeros: `100`, `1.5`, `-50`."""
    return format(quantity.normalize(), "f") if quantity else "0"


def shares(quantity: Decimal) -> str:
    return f"{quantity} share{'' if quantity == 1 else 's'}"


# --- The seed's messages ----------------------------------------------------------------------------------


def trade_details(trade: TradeRequest) -> Blocks:
    """The seed's "Trade Details": symbol, type, quantity, the order terms when not market, the trade id."""
    fields = [
        field("Symbol", trade.symbol),
        field("Type", trade.side.upper()),
        field(*size_label(trade)),
    ]
    terms = order_terms(trade)
    if terms is not None:
        fields.append(field("Order", terms))
    fields.append(field("Trade ID", code(trade.trade_id)))
    return field_sections("Trade Details", fields)


def next_steps(trade: TradeRequest, steps: list[str]) -> Block:
    lines = [*steps, CONTACT_SUPPORT, f"Reference Trade ID: {code(trade.trade_id)}"]
    return section("*💡 Next Steps:*\n" + "\n".join(f"• {line}" for line in lines))


def success_message(event: PositionUpdated) -> tuple[Blocks, str]:
    """✅ Trade Executed Successfully: trade details, execution details, the App Home pointer."""
    execution, position = event.execution, event.position
    fields = [field("Method", METHOD_LABELS[execution.execution_method])]
    if execution.alpaca_order_id:
        fields.append(field("Alpaca Order ID", code(execution.alpaca_order_id)))
    partial = part_filled(event.trade, execution.filled_quantity)
    if partial is not None:
        fields.append(field("Filled", partial))
    elif event.trade.notional is not None:
        fields.append(field("Filled", shares(execution.filled_quantity)))
    fields += [
        field("Execution Price", money(execution.execution_price)),
        field("Execution Time", _duration(execution.execution_time_ms)),
        field("Slippage", f"{execution.slippage_bps:.2f} bps"),
        field("Position", f"{position.quantity} {position.symbol} @ {money(position.average_cost)} avg"),
    ]
    blocks = [
        header("✅ Trade Executed Successfully"),
        *trade_details(event.trade),
        *field_sections("Execution Details", fields),
        context(APP_HOME_POINTER),
    ]
    return blocks, escape(success_text(event))


def failure_message(event: TradeFailed) -> tuple[Blocks, str]:
    """❌ Trade Execution Failed: trade details, the error and its code, next steps with the trade id."""
    error = event.error
    fields = [field("Error", fit(error.message, FIELD_TEXT_MAX - 20)), field("Error Code", code(error.code))]
    if error.execution_method:
        fields.append(field("Method", METHOD_LABELS[error.execution_method]))
    if error.alpaca_order_id:
        fields.append(field("Alpaca Order ID", code(error.alpaca_order_id)))
    steps = [fit(step, 500) for step in error.next_steps] or [NEXT_STEPS.get(error.code, DEFAULT_NEXT_STEP)]
    blocks = [
        header(failure_title(error.code)),
        *trade_details(event.trade),
        *field_sections("Error Information", fields),
        next_steps(event.trade, steps),
    ]
    return blocks, escape(failure_text(event))


def rejection_message(event: TradeRejected) -> tuple[Blocks, str]:
    """❌ Trade Execution Failed, as the seed words it: an Error and Error Code per reason, next steps."""
    fields: list[str] = []
    for reason in event.reasons[:REASONS_SHOWN_MAX]:
        fields += [
            field("Error", fit(reason.message, FIELD_TEXT_MAX - 20)),
            field("Error Code", code(reason.code)),
        ]
    steps = [fit(step, 500) for step in rejection_steps(event)]
    blocks = [
        header("❌ Trade Execution Failed"),
        *trade_details(event.trade),
        *field_sections("Error Information", fields),
    ]
    hidden = len(event.reasons) - REASONS_SHOWN_MAX
    if hidden > 0:
        blocks.append(
            context(f"…and {hidden} more reason{'' if hidden == 1 else 's'} (see the message text).")
        )
    blocks.append(next_steps(event.trade, steps))
    return blocks, escape(rejection_text(event))


CANCEL_ACTION = "cancel_order"  # the Cancel button's action_id (the ingress listens); its value: the trade id
MODIFY_ACTION = "modify_order"  # the Modify button's: the ingress opens the modify modal


def cancel_button(trade_id: object, label: str = "Cancel order") -> Block:
    """A working order's Cancel button, with Slack's own "are you sure" before it is sent."""
    text = "Alpaca is asked to cancel what has not filled yet."
    return _cancel_like(trade_id, label, "Cancel this order?", text, "Cancel order")


def withdraw_button(trade_id: object) -> Block:
    """A trade awaiting approval's Withdraw button: the same cancel, which withdraws the request (no order
    exists yet), with its own "are you sure"."""
    text = "The approvers' request is withdrawn; nothing was sent to Alpaca."
    return _cancel_like(trade_id, "Withdraw", "Withdraw this trade?", text, "Withdraw")


def _cancel_like(trade_id: object, label: str, title: str, text: str, confirm: str) -> Block:
    return {
        "type": "button",
        "action_id": CANCEL_ACTION,
        "text": plain_text(label, 75),
        "value": str(trade_id),
        "style": "danger",
        "confirm": {
            "title": plain_text(title, 100),
            "text": plain_text(text, 300),
            "confirm": plain_text(confirm, 30),
            "deny": plain_text("Keep it", 30),
        },
    }


def working_message(event: TradeWorking) -> tuple[Blocks, str]:
    """🕐 Order Accepted, Working (or ⏳ being confirmed): what happens next, the order id, fills so far."""
    title, status = WORKING_STATUS[event.state]
    fields: list[str] = []
    if event.alpaca_order_id:
        fields.append(field("Alpaca Order ID", code(event.alpaca_order_id)))
    filled = sum((fill.quantity for fill in event.fills), Decimal(0))
    if filled:
        of = f" of {event.trade.quantity}" if event.trade.quantity is not None else ""
        fields.append(field("Filled so far", f"{filled}{of} shares"))
    fields.append(field("Reference Trade ID", code(event.trade.trade_id)))
    order_status = field_sections("Order Status", fields)
    order_status[0]["text"] = mrkdwn(f"*Order Status*\n{status}")
    blocks = [header(title), *trade_details(event.trade), *order_status]
    buttons = [cancel_button(event.trade.trade_id)]
    if event.trade.order_type != "market":  # a resting limit or stop: its terms can change
        buttons.append(
            {
                "type": "button",
                "action_id": MODIFY_ACTION,
                "text": plain_text("Modify order", 75),
                "value": str(event.trade.trade_id),
            }
        )
    blocks.append({"type": "actions", "elements": buttons})
    return blocks, escape(working_text(event))


def held_message(event: TradeHeld) -> tuple[Blocks, str]:
    """⏳ Trade Delayed (it goes on by itself), or the failure layout for a trade not executed."""
    if event.state == "delayed":
        status = field_sections("Order Status", [field("Reference Trade ID", code(event.trade.trade_id))])
        status[0]["text"] = mrkdwn(f"*Order Status*\n{held_status(event)}")
        blocks = [header("⏳ Trade Delayed"), *trade_details(event.trade), *status]
        return blocks, escape(held_text(event))
    fields = [field("Error", "Not executed"), field("Error Code", code("NOT_EXECUTED"))]
    blocks = [
        header("❌ Trade Execution Failed"),
        *trade_details(event.trade),
        *field_sections("Error Information", fields),
        next_steps(event.trade, [NEXT_STEPS["NOT_EXECUTED"]]),
    ]
    return blocks, escape(held_text(event))


def cancel_refused_message(event: CancelRefused) -> tuple[Blocks, str]:
    """⚠️ Cancel Not Done: why (the order filled or ended first), the trade, its id."""
    fields = [field("Why", fit(event.message, FIELD_TEXT_MAX - 20)), field("Error Code", code(event.code))]
    fields.append(field("Reference Trade ID", code(event.trade.trade_id)))
    blocks = [header(CANCEL_REFUSED_TITLE), *trade_details(event.trade), *field_sections("Cancel", fields)]
    return blocks, escape(cancel_refused_text(event))


def outcome_message(outcome: Outcome) -> tuple[Blocks, str]:
    """The message for any outcome the trader is told about."""
    if isinstance(outcome, PositionUpdated):
        return success_message(outcome)
    if isinstance(outcome, TradeFailed):
        return failure_message(outcome)
    if isinstance(outcome, TradeWorking):
        return working_message(outcome)
    if isinstance(outcome, TradeHeld):
        return held_message(outcome)
    if isinstance(outcome, CancelRefused):
        return cancel_refused_message(outcome)
    return rejection_message(outcome)
