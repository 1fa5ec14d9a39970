"""The approvers' channel on Slack's Web API: a trade's approval request posted with its buttons, found
again by its message metadata after a lost answer, and updated to show the decision."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from messages.events import ApprovalDecided, ApprovalRequested
from workers.handlers.ports import ApprovalPost
from workers.slack.approval_blocks import APPROVAL_EVENT, decided_message, request_message
from workers.slack.history import find_posted
from workers.slack.slack_errors import slack_call

HISTORY_SLACK_S = 60.0  # read the channel's history from a minute before the request


class ApprovalDesk:
    """Posts to one channel (an id: chat.update takes no #name) as the bot the client holds the token of."""

    def __init__(self, client: AsyncWebClient, channel: str, *, deadline_s: float = 12.0) -> None:
        self.client = client
        self.channel = channel
        self.deadline_s = deadline_s

    async def ask(self, request: ApprovalRequested) -> ApprovalPost:
        blocks, text = request_message(request)
        metadata = {"event_type": APPROVAL_EVENT, "event_payload": _payload(request)}
        posted = await slack_call(
            self.client.chat_postMessage(channel=self.channel, blocks=blocks, text=text, metadata=metadata),
            deadline_s=self.deadline_s,
        )
        return ApprovalPost(channel=str(posted["channel"]), ts=str(posted["ts"]))

    async def find(self, request: ApprovalRequested) -> ApprovalPost | None:
        found = await find_posted(
            self.client,
            self.channel,
            oldest=request.requested_at.timestamp() - HISTORY_SLACK_S,
            event_type=APPROVAL_EVENT,
            payload=_payload(request),
            deadline_s=self.deadline_s,
        )
        return None if found is None else ApprovalPost(channel=self.channel, ts=str(found["ts"]))

    async def show(self, post: ApprovalPost, decided: ApprovalDecided) -> None:
        blocks, text = decided_message(decided)
        await slack_call(
            self.client.chat_update(channel=post.channel, ts=post.ts, blocks=blocks, text=text),
            deadline_s=self.deadline_s,
            method="chat.update",
        )


def _payload(request: ApprovalRequested) -> dict[str, str]:
    return {"trade_id": str(request.trade.trade_id)}
