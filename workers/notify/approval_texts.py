"""Four eyes in words: the trader's "awaiting approval" and "approved" notices, the approvers' request and
its decision, as plain text (Slack's fallback text and the log notifier). User ids are Slack mentions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from messages.events import ApprovalDecided, ApprovalRequested
from messages.trade import TradeRequest
from workers.notify.templates import _trade_details, order_terms

AWAITING_TITLE = "⏳ Awaiting Approval"
APPROVED_TITLE = "✅ Approved"
REQUEST_TITLE = "🔔 Approval Needed"
DECISION_TITLES = {
    "approved": "✅ Approved",
    "rejected": "🚫 Rejected",
    "expired": "⌛ Expired",
    "withdrawn": "↩️ Withdrawn",
}


def clock(moment: datetime) -> str:
    """A moment as people read it in a notice: `14:32 UTC`."""
    return f"{moment:%H:%M} UTC"


def notional_text(notional: Decimal | None) -> str:
    return "unknown until it is priced" if notional is None else f"${notional:,.2f}"


def order_line(trade: TradeRequest) -> str:
    """`BUY 100 AAPL (limit $190, day)`: what the order is, in one line."""
    terms = order_terms(trade)
    return f"{trade.side.upper()} {trade.size_text} {trade.symbol}" + (f" ({terms})" if terms else "")


def awaiting_text(event: ApprovalRequested) -> str:
    lines = [AWAITING_TITLE, "", *_trade_details(event.trade), "", "Approval:"]
    lines += [
        f"• Notional: {notional_text(event.notional)}, above the approval threshold of "
        f"${event.threshold:,.2f}",
        "• An approver decides before anything is sent to Alpaca; you will be told what they decided",
        f"• It expires at {clock(event.expires_at)} if nobody decides",
    ]
    return "\n".join(lines)


def approved_text(event: ApprovalDecided) -> str:
    lines = [
        f"{APPROVED_TITLE} by <@{event.decided_by}>: sending it to Alpaca",
        "",
        *_trade_details(event.trade),
        "",
        "You will get a message when it is done.",
    ]
    return "\n".join(lines)


def request_text(event: ApprovalRequested) -> str:
    trade = event.trade
    account = f" in the {trade.account} account" if trade.account else ""
    return (
        f"{REQUEST_TITLE}: <@{trade.user_id}> wants to {order_line(trade)}{account}, notional "
        f"{notional_text(event.notional)} (threshold ${event.threshold:,.2f}). Approve or reject before "
        f"{clock(event.expires_at)}. Trade ID: {trade.trade_id}"
    )


def decision_line(event: ApprovalDecided) -> str:
    """`✅ Approved by <@U> at 14:32 UTC`, or how else it was decided."""
    title = DECISION_TITLES[event.decision]
    if event.decision == "expired":
        return f"{title} at {clock(event.decided_at)}: no approver decided in time"
    return f"{title} by <@{event.decided_by}> at {clock(event.decided_at)}"


def decision_text(event: ApprovalDecided) -> str:
    trade = event.trade
    return f"{decision_line(event)}: <@{trade.user_id}>'s {order_line(trade)}. Trade ID: {trade.trade_id}"
