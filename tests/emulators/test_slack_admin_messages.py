"""The Slack emulator's record of what the app posted, read through its admin client."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from emulators.admin_http import AdminError
from emulators.slack import SlackEmulator

TRADER = "U0TRADER01"


async def test_the_admin_message_list_reads_from_an_offset_so_a_poller_sees_only_new_messages(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    for text in ("one", "two", "three"):
        await slack_client.chat_postMessage(channel=TRADER, text=text)

    assert [m["text"] for m in slack_emulator.admin.messages(offset=1)] == ["two", "three"]
    assert slack_emulator.admin.messages(offset=3) == []
    assert [m["text"] for m in slack_emulator.admin.messages(user=TRADER, offset=2)] == ["three"]
    with pytest.raises(AdminError, match="400"):
        slack_emulator.admin.messages(offset=-1)
