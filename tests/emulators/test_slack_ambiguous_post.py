"""The ambiguous post: Slack posts the message and its answer never comes (`no_answer`), as slack-sdk sees it.

A trader then has the DM, and the app does not know it: only the DM history (by the message's metadata)
can tell. The campaign's `slack_ambiguous_dm` fault is this one.
"""

from __future__ import annotations

import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator
from tests.waiting import eventually

TRADER = "U0TRADER01"
NOTICE = {"event_type": "tradeflow_trade_notice", "event_payload": {"trade_id": "t-1", "notice": "outcome"}}


def quiet_client(emulator: SlackEmulator, timeout: int = 1) -> AsyncWebClient:
    """No retry handlers at all: what one request does, alone."""
    return AsyncWebClient(
        token=emulator.bot_token, base_url=emulator.api_url, timeout=timeout, retry_handlers=[]
    )


async def test_an_ambiguous_post_lands_and_its_answer_never_comes(slack_emulator: SlackEmulator) -> None:
    fault = slack_emulator.admin.ambiguous_post()
    assert (fault["kind"], fault["method"], fault["phase"]) == ("no_answer", "chat.postMessage", "after")

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await quiet_client(slack_emulator).chat_postMessage(channel=TRADER, text="Executed", metadata=NOTICE)
    assert time.monotonic() - started < 5  # the client gave up at its own timeout, not the emulator's hold

    (dm,) = slack_emulator.admin.messages(user=TRADER)  # it landed
    assert dm["metadata"] == NOTICE and dm["answer_lost"] == "no_answer"
    (call,) = eventually(lambda: slack_emulator.admin.calls("chat.postMessage"), timeout=5)
    assert (call["status"], call["fault"], call["response"]) == ("no_answer", "no_answer", None)


async def test_the_history_shows_the_ambiguous_post_with_its_metadata(slack_emulator: SlackEmulator) -> None:
    slack_emulator.admin.ambiguous_post()
    client = quiet_client(slack_emulator)
    with pytest.raises(TimeoutError):
        await client.chat_postMessage(channel=TRADER, text="Trade executed", metadata=NOTICE)

    channel = (await client.conversations_open(users=TRADER))["channel"]["id"]
    history = await client.conversations_history(channel=channel, include_all_metadata=True)
    assert [m["metadata"] for m in history["messages"]] == [NOTICE]


async def test_a_held_answer_is_given_up_after_its_hold(slack_emulator: SlackEmulator) -> None:
    slack_emulator.admin.ambiguous_post(hold_s=0.3)
    with pytest.raises(Exception) as raised:  # the server closes the connection without an answer
        await quiet_client(slack_emulator, timeout=5).chat_postMessage(channel=TRADER, text="x")
    assert not isinstance(raised.value, TimeoutError)
    assert len(slack_emulator.admin.messages(user=TRADER)) == 1


async def test_before_the_effect_nothing_lands(slack_emulator: SlackEmulator) -> None:
    slack_emulator.admin.add_fault("no_answer", method="chat.postMessage", phase="before")
    with pytest.raises(TimeoutError):
        await quiet_client(slack_emulator).chat_postMessage(channel=TRADER, text="x")
    assert slack_emulator.admin.messages(user=TRADER) == []


async def test_slack_sdks_default_client_resends_a_post_whose_connection_dropped(
    slack_emulator: SlackEmulator,
) -> None:
    # What tradeflow's notifier must not rely on: slack-sdk's default AsyncConnectionErrorRetryHandler
    # sends the post again after a dropped connection, though the first one landed.
    slack_emulator.admin.add_fault("drop_connection", method="chat.postMessage", phase="after")
    client = AsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url, timeout=5)
    await client.chat_postMessage(channel=TRADER, text="Trade executed")
    assert len(slack_emulator.admin.messages(user=TRADER)) == 2
