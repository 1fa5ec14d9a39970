"""The trade modal after submit: "Submitting…", then the outcome, in the same blocks as the DM."""

from __future__ import annotations

from messages.events import (
    ApprovalDecided,
    ApprovalRequested,
    CancelRefused,
    PositionUpdated,
    TradeFailed,
    TradeHeld,
    TradeRejected,
    TradeWorking,
)
from messages.trade import TradeRequest
from workers.handlers.ports import Notice
from workers.slack.approval_blocks import notice_message
from workers.slack.blocks import (
    VIEW_BLOCKS_MAX,
    VIEW_TITLE_MAX,
    Block,
    Blocks,
    code,
    context,
    plain_text,
    section,
    shares,
)

OUTCOME_VIEW_CALLBACK_ID = "trade_outcome"
SUBMITTING_VIEW_CALLBACK_ID = "trade_submitting"


def _modal(title: str, blocks: Blocks, trade: TradeRequest, callback_id: str) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain_text(title, VIEW_TITLE_MAX),
        "close": plain_text("Close", VIEW_TITLE_MAX),
        "private_metadata": str(trade.trade_id),
        "blocks": blocks[:VIEW_BLOCKS_MAX],
    }


def submitting_view(trade: TradeRequest) -> Block:
    """The modal shown right after submit: the trade is being executed (set by the ingress's ack)."""
    size = shares(trade.quantity) if trade.quantity is not None else f"${trade.notional:,.2f}"
    order = f"{trade.side.upper()} {size} of {trade.symbol}"
    blocks = [
        section(f"⏳ *Submitting…*\nYour {order} is being executed. You will get a message when it is done."),
        context(f"Trade ID: {code(trade.trade_id)}"),
    ]
    return _modal("Submitting…", blocks, trade, SUBMITTING_VIEW_CALLBACK_ID)


OUTCOME_TITLES = {
    PositionUpdated: "Trade Executed",
    TradeFailed: "Trade Failed",
    TradeRejected: "Trade Rejected",
    ApprovalRequested: "Awaiting Approval",
    ApprovalDecided: "Approved",
}


def outcome_view(outcome: Notice) -> Block:
    """The submitted modal updated to the outcome (or that it awaits approval): the same blocks as the DM."""
    blocks, _ = notice_message(outcome)
    if isinstance(outcome, TradeWorking):
        title = "Order Working" if outcome.state == "working" else "Order Being Confirmed"
    elif isinstance(outcome, TradeHeld):
        title = "Trade Delayed" if outcome.state == "delayed" else "Trade Not Executed"
    elif isinstance(outcome, CancelRefused):
        title = "Cancel Not Done"
    else:
        title = OUTCOME_TITLES[type(outcome)]
    return _modal(title, blocks, outcome.trade, OUTCOME_VIEW_CALLBACK_ID)
