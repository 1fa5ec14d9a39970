"""The approvers' buttons: an Approve or Reject click in the approvers' channel, checked and answered at once
(for the clicker's eyes only), then sent as a DecideApproval to the validation stage, which writes the one
decision and checks the same things again.

A click is refused, and nothing sent, when the clicker is the trader (four eyes: never one's own), does not
hold the approver role, or the trade no longer awaits approval (decided already: the answer says by whom and
when). The read and the publish are bounded so the answer stays inside Slack's 3 seconds.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from messages.events import AnyMessage, DecideApproval
from messages.records import TradeRecord
from workers.handlers.ports import RoleReader
from workers.notify.approval_texts import DECISION_TITLES, clock, order_line
from workers.slack.approval_blocks import APPROVE_ACTION, REJECT_ACTION
from workers.store.port import TradeStore

__all__ = ["APPROVE_ACTION", "REJECT_ACTION", "ApprovalClicks", "ClickAnswer"]

logger = logging.getLogger("tradeflow.ingress")

READ_TIMEOUT_S = 1.5
SEND_TIMEOUT_S = 1.0
NOT_AN_APPROVER = "Only approvers can approve or reject trades: ask an admin for the *approver* role."
OWN_TRADE = "You can't approve or reject your own trade: another approver decides it. Nothing was changed."
UNAVAILABLE = "I can't reach the trading system right now, and nothing was decided: try again in a moment."


@dataclass(frozen=True)
class ClickAnswer:
    """What the clicker is told, the outcome in a word (journaled), and whether it is an access refusal."""

    text: str
    outcome: str
    refused: bool = False


class ApprovalClicks:
    def __init__(
        self,
        *,
        store: TradeStore,
        roles: RoleReader,
        send: Callable[[AnyMessage], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.roles = roles
        self.send = send
        self.clock = clock

    async def click(self, user_id: str, value: str, decision: Literal["approve", "reject"]) -> ClickAnswer:
        """Check the click, send the decision if it may be made, and say what happened."""
        at = self.clock()
        try:
            trade_id = uuid.UUID(value.strip())
        except ValueError:
            return ClickAnswer("That button names no trade: nothing was changed.", "bad_value")
        try:
            record = await asyncio.wait_for(self.store.get_trade(trade_id), READ_TIMEOUT_S)
            approver = await asyncio.wait_for(self.roles.has_role(user_id, "approver"), READ_TIMEOUT_S)
        except Exception as exc:  # the store down or slow: nothing was sent
            logger.warning("Trade %s not read for a %s by %s: %r", trade_id, decision, user_id, exc)
            return ClickAnswer(UNAVAILABLE, "unavailable")
        if record is not None and record.user_id == user_id:
            return ClickAnswer(OWN_TRADE, "own_trade", refused=True)
        if not approver:
            return ClickAnswer(NOT_AN_APPROVER, "not_an_approver", refused=True)
        if record is None or record.approval is None:
            return ClickAnswer(
                f"No trade awaiting approval has the id {trade_id}: nothing was changed.", "unknown"
            )
        if record.status != "awaiting_approval":
            return ClickAnswer(already_decided(record), "already_decided")
        command = DecideApproval(
            trade=record.request(),
            decision=decision,
            decided_by=user_id,
            decided_at=at,
            source="slack_button",
        )
        try:
            await asyncio.wait_for(asyncio.to_thread(self.send, command), SEND_TIMEOUT_S)
        except Exception as exc:  # RabbitMQ down or slow: a click sent again is the same decision
            logger.warning("Decision %s on %s by %s not sent: %r", decision, trade_id, user_id, exc)
            return ClickAnswer(UNAVAILABLE, "unavailable")
        logger.info("Decision %s on trade %s sent by %s", decision, trade_id, user_id)
        order = f"<@{record.user_id}>'s {order_line(record.request())}"
        if at >= record.approval.expires_at:
            return ClickAnswer(
                f"Too late: this request expired at {clock(record.approval.expires_at)}, and {order} is not "
                "sent to Alpaca.",
                "expired",
            )
        if decision == "approve":
            return ClickAnswer(f"Approval sent: {order} goes to Alpaca once it is recorded.", "approve_sent")
        return ClickAnswer(f"Rejection sent: {order} is not sent to Alpaca.", "reject_sent")


def already_decided(record: TradeRecord) -> str:
    """`Already approved by <@U> at 14:32 UTC`: how a trade no longer awaiting approval was decided."""
    approval = record.approval
    if approval is None or approval.decision is None or approval.decided_at is None:
        return f"This trade is {record.status}: there is nothing left to decide."
    title = DECISION_TITLES[approval.decision].split(" ", 1)[1].lower()
    if approval.decision == "expired":
        return f"Already {title} at {clock(approval.decided_at)}: nothing is left to decide."
    return (
        f"Already {title} by <@{approval.decided_by}> at {clock(approval.decided_at)}: nothing was changed."
    )
