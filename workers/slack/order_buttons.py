"""The order buttons and the modify modal's submission: Cancel, Modify, and the approvers' Approve / Reject,
each answered to the clicker alone, where they clicked, and journaled in the session stream."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from workers.slack.after_answer import AfterAnswer
from workers.slack.approvals import APPROVE_ACTION, ApprovalClicks
from workers.slack.order_commands import CANCEL_ACTION, MODIFY_ACTION, OrderCommands, modified_view
from workers.slack.session import SessionAudit


class OrderButtons:
    """The listeners bolt calls for the order buttons (registered by the ingress)."""

    def __init__(
        self,
        orders: OrderCommands,
        approvals: ApprovalClicks,
        session: SessionAudit,
        after_answer: AfterAnswer,
    ) -> None:
        self.orders = orders
        self.approvals = approvals
        self.session = session
        self.after_answer = after_answer

    async def modify_command(
        self,
        ack: Any,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: dict[str, Any],
        rest: str,
        audit: dict[str, Any],
    ) -> None:
        """`/trade modify TRADE_ID`: the modify modal on the fresh trigger, or why the order cannot be."""
        found = await self.orders.modifiable(str(body.get("user_id") or ""), rest)
        if isinstance(found, str):
            await ack(response_type="ephemeral", text=found)
            self.session.interaction("slash_command", context, **audit, outcome="modify_refused")
            return
        await ack()
        opening = self.orders.open_modify(client, body["trigger_id"], found)
        self.after_answer.start(opening, "views.open for /trade modify")
        self.session.interaction("slash_command", context, **audit, outcome="modify")

    async def on_modify_button(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any, context: dict[str, Any]
    ) -> None:
        """A Modify button: the modal, or (ephemeral, where the click was) why the order cannot be."""
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        trade_id = str(((body.get("actions") or [{}])[0]).get("value") or "")
        found = await self.orders.modifiable(user_id, trade_id)
        self.session.interaction(
            "block_actions", context, action_id=MODIFY_ACTION, trade_id=trade_id[:40], outcome="modify"
        )
        if not isinstance(found, str):
            await self.orders.open_modify(client, body["trigger_id"], found)
        elif body.get("response_url"):
            await respond(text=found, response_type="ephemeral", replace_original=False)
        else:
            await client.chat_postMessage(channel=user_id, text=found)

    async def on_modify_submission(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        sent = await self.orders.submit_modify(view, body["user"]["id"])
        if isinstance(sent, dict):
            await ack(response_action="errors", errors=sent)
            self.session.interaction(
                "view_submission", context, view_id=view.get("id"), outcome="modify_errors"
            )
            return
        await ack(response_action="update", view=modified_view(sent))
        self.session.interaction(
            "view_submission",
            context,
            view_id=view.get("id"),
            trade_id=str(sent.trade_id),
            replacement_trade_id=str(sent.replacement.trade_id),
            outcome="modify_sent",
        )

    async def on_cancel_button(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any, context: dict[str, Any]
    ) -> None:
        """A Cancel button (the working-order DM, App Home): the answer goes where the click was."""
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        trade_id = str(((body.get("actions") or [{}])[0]).get("value") or "")
        text = await self.orders.cancel(user_id, trade_id, source="slack_button")
        self.session.interaction(
            "block_actions", context, action_id=CANCEL_ACTION, trade_id=trade_id[:40], outcome="cancel"
        )
        if body.get("response_url"):
            await respond(text=text, response_type="ephemeral", replace_original=False)
        else:  # App Home: no response URL; the trader's DM with the app
            await client.chat_postMessage(channel=user_id, text=text)

    async def on_approval_button(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any, context: dict[str, Any]
    ) -> None:
        """Approve or Reject in the approvers' channel: answered to the clicker alone, where they clicked."""
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        action = (body.get("actions") or [{}])[0]
        trade_id, action_id = str(action.get("value") or ""), str(action.get("action_id") or "")
        answer = await self.approvals.click(
            user_id, trade_id, "approve" if action_id == APPROVE_ACTION else "reject"
        )
        journaled = {"action_id": action_id, "trade_id": trade_id[:40], "outcome": answer.outcome}
        self.session.interaction("block_actions", context, **journaled)
        if answer.refused:
            self.session.refused("approval_refused", context, **journaled)
        if body.get("response_url"):
            await respond(text=answer.text, response_type="ephemeral", replace_original=False)
        else:
            channel = str((body.get("channel") or {}).get("id") or user_id)
            await client.chat_postEphemeral(channel=channel, user=user_id, text=answer.text)
