"""chat.update through an unmodified slack-sdk client: the app's own message replaced in place (buttons
gone), by channel id only; what Slack refuses, refused as Slack does."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator

APPROVALS = "C0APPROVALS"  # the emulator's #trade-approvals
BUTTONS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Approve BUY 100 AAPL?"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "approve_trade",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    },
]
DECIDED: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": "Approved by <@U1>"}}]


async def refused(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


async def test_a_message_is_updated_in_place_and_its_buttons_are_gone(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    posted = await slack_client.chat_postMessage(channel=APPROVALS, blocks=BUTTONS, text="Approve?")
    updated = await slack_client.chat_update(
        channel=APPROVALS, ts=posted["ts"], blocks=DECIDED, text="Approved"
    )
    assert updated["ok"] and updated["ts"] == posted["ts"] and updated["channel"] == APPROVALS
    [message] = slack_emulator.admin.messages(channel=APPROVALS, kind="message")
    assert message["ts"] == posted["ts"] and message["updates"] == 1 and message["text"] == "Approved"
    assert [b["type"] for b in message["blocks"]] == ["section"] and "Approved by" in str(message["blocks"])


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")  # the no_text case
async def test_an_update_names_the_channel_by_id_and_an_existing_message(
    slack_client: AsyncWebClient,
) -> None:
    posted = await slack_client.chat_postMessage(channel=APPROVALS, text="Approve?")
    assert await refused(slack_client.chat_update(channel="#trade-approvals", ts=posted["ts"], text="x")) == (
        "channel_not_found"
    )
    assert await refused(slack_client.chat_update(channel=APPROVALS, ts="1.000001", text="x")) == (
        "message_not_found"
    )
    assert await refused(slack_client.chat_update(channel=APPROVALS, ts=posted["ts"])) == "no_text"
