"""The traced Slack client keeps one HTTP session for all of its calls, and ends it on close."""

from __future__ import annotations

from emulators.slack import SlackEmulator
from workers.slack.traced_client import TracedAsyncWebClient


async def test_every_call_goes_through_one_session_until_close(slack_emulator: SlackEmulator) -> None:
    client = TracedAsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url)
    await client.auth_test()
    session = client.session
    await client.chat_postMessage(channel="U0TRADER01", text="one")
    await client.chat_postMessage(channel="U0TRADER01", text="two")

    assert session is not None and client.session is session and not session.closed
    await client.close()
    assert session.closed and client.session is None
    assert [m["text"] for m in slack_emulator.admin.messages()] == ["one", "two"]
