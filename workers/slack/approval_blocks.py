"""Four eyes as Block Kit: the approvers' request with its Approve and Reject buttons, the same message once
decided (no buttons left), and the trader's "awaiting approval" and "approved" notices. Pure dicts, no I/O.

Each builder returns `(blocks, text)` as blocks.py's do. Every value shown comes from a validated trade
(symbols, user ids, Decimals), so the mentions (`<@U…>`) are left as Slack reads them.
"""

from __future__ import annotations

from decimal import Decimal

from messages.events import ApprovalDecided, ApprovalRequested
from messages.trade import TradeRequest
from workers.handlers.ports import Notice
from workers.notify.approval_texts import (
    APPROVED_TITLE,
    AWAITING_TITLE,
    DECISION_TITLES,
    REQUEST_TITLE,
    approved_text,
    awaiting_text,
    clock,
    decision_line,
    decision_text,
    notional_text,
    order_line,
    request_text,
)
from workers.slack.blocks import (
    Block,
    Blocks,
    code,
    context,
    field,
    field_sections,
    header,
    outcome_message,
    plain_text,
    section,
    trade_details,
)

APPROVE_ACTION = "approve_trade"  # the buttons' action_ids (the ingress listens); their value: the trade id
REJECT_ACTION = "reject_trade"
APPROVAL_EVENT = "tradeflow_approval_request"  # the request's message metadata: how a retry finds it


def request_message(event: ApprovalRequested) -> tuple[Blocks, str]:
    """🔔 Approval Needed: who wants what, its notional against the threshold, until when; the buttons."""
    blocks = [header(REQUEST_TITLE), *_request_fields(event.trade, event.notional, event.threshold)]
    blocks.append(context(f"Expires at {clock(event.expires_at)} if nobody decides."))
    trade_id = str(event.trade.trade_id)
    buttons: list[Block] = [
        {
            "type": "button",
            "action_id": APPROVE_ACTION,
            "text": plain_text("Approve", 75),
            "value": trade_id,
            "style": "primary",
        },
        {
            "type": "button",
            "action_id": REJECT_ACTION,
            "text": plain_text("Reject", 75),
            "value": trade_id,
            "style": "danger",
            "confirm": {
                "title": plain_text("Reject this trade?", 100),
                "text": plain_text("The trader is told it was rejected, and nothing is sent to Alpaca.", 300),
                "confirm": plain_text("Reject", 30),
                "deny": plain_text("Keep it waiting", 30),
            },
        },
    ]
    blocks.append({"type": "actions", "block_id": f"approval#{trade_id}", "elements": buttons})
    return blocks, request_text(event)


def decided_message(event: ApprovalDecided) -> tuple[Blocks, str]:
    """The request once decided: the same trade, the decision in place of the buttons."""
    blocks = [header(DECISION_TITLES[event.decision])]
    blocks += _request_fields(event.trade, event.notional, event.threshold)
    blocks.append(section(f"*{decision_line(event)}*"))
    return blocks, decision_text(event)


def _request_fields(trade: TradeRequest, notional: Decimal | None, threshold: Decimal | None) -> Blocks:
    fields = [
        field("Trader", f"<@{trade.user_id}>"),
        field("Order", order_line(trade)),
        field("Notional", notional_text(notional)),
    ]
    if threshold is not None:
        fields.append(field("Approval threshold", f"${threshold:,.2f}"))
    if trade.account:
        fields.append(field("Account", trade.account))
    fields.append(field("Trade ID", code(trade.trade_id)))
    return field_sections(f"<@{trade.user_id}> wants to {order_line(trade)}", fields)


def awaiting_message(event: ApprovalRequested) -> tuple[Blocks, str]:
    """⏳ Awaiting Approval: the trade, why it waits, until when."""
    status = (
        f"Notional {notional_text(event.notional)} is above the approval threshold of "
        f"${event.threshold:,.2f}: an approver decides before anything is sent to Alpaca. "
        f"It expires at {clock(event.expires_at)} if nobody decides; you will be told either way."
    )
    blocks = [header(AWAITING_TITLE), *trade_details(event.trade), section(f"*Approval*\n{status}")]
    return blocks, awaiting_text(event)


def approved_message(event: ApprovalDecided) -> tuple[Blocks, str]:
    """✅ Approved by <@U>: sending it to Alpaca (the execution's own notice follows)."""
    said = f"Approved by <@{event.decided_by}> at {clock(event.decided_at)}: sending it to Alpaca."
    blocks = [
        header(APPROVED_TITLE),
        section(f"{said} You will get a message when it is done."),
        *trade_details(event.trade),
    ]
    return blocks, approved_text(event)


def notice_message(notice: Notice) -> tuple[Blocks, str]:
    """The message for any notice a trader gets: an outcome (blocks.py), or an approval's."""
    if isinstance(notice, ApprovalRequested):
        return awaiting_message(notice)
    if isinstance(notice, ApprovalDecided):
        return approved_message(notice)
    return outcome_message(notice)
