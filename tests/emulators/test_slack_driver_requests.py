"""The driver's requests to an app: each is signed as slack-sdk's SignatureVerifier expects, and each
has Slack's shape (slash commands, interactivity from messages, Events API, URL checks)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emulators.slack import AckTimeout, SlackDriver, SlackEmulator
from tests.fixtures_slack import Received, StandInApp, just_ack

TRADER = "U0TRADER01"
FORM = "application/x-www-form-urlencoded"
BUTTON = {
    "type": "button",
    "action_id": "new_trade",
    "value": "new",
    "text": {"type": "plain_text", "text": "New"},
}
BLOCKS: list[dict[str, Any]] = [{"type": "actions", "block_id": "home_actions", "elements": [BUTTON]}]
HOME: dict[str, Any] = {"type": "home", "blocks": BLOCKS}
MODAL: dict[str, Any] = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "New trade"},
    "submit": {"type": "plain_text", "text": "Go"},
    "blocks": [
        {
            "type": "input",
            "block_id": "symbol",
            "label": {"type": "plain_text", "text": "Symbol"},
            "element": {"type": "plain_text_input", "action_id": "symbol"},
        }
    ],
}


async def test_every_request_is_signed_as_slack_signs(
    slack_stand_in: StandInApp, slack_driver: SlackDriver
) -> None:
    trigger_id = (await slack_driver.slash_command("buy 1 AAPL")).trigger_id
    view = (await slack_stand_in.client.views_open(trigger_id=trigger_id, view=MODAL))["view"]
    await slack_stand_in.client.views_publish(user_id=TRADER, view=HOME)
    home = slack_driver.home_view()
    assert home is not None

    await slack_driver.submit_view(view, {"symbol": "AAPL"})
    await slack_driver.block_action(home, "new_trade")
    await slack_driver.app_home_opened()
    await slack_driver.url_verification()
    await slack_driver.ssl_check()

    assert len(slack_stand_in.received) == 6
    assert all(r.signed for r in slack_stand_in.received)
    assert all(r.headers["X-Slack-Signature"].startswith("v0=") for r in slack_stand_in.received)


async def test_forged_and_stale_requests_fail_verification(
    slack_stand_in: StandInApp, slack_driver: SlackDriver
) -> None:
    body = "command=%2Ftrade&text=buy+1+AAPL"

    wrong = await slack_driver.post_signed(body, FORM, signature="v0=" + "0" * 64)
    stale = await slack_driver.post_signed(body, FORM, timestamp=int(time.time()) - 600)
    garbled = await slack_driver.post_signed(body, FORM, timestamp="not-a-number")
    fine = await slack_driver.post_signed(body, FORM)

    assert [wrong.status, stale.status, garbled.status, fine.status] == [401, 401, 401, 200]
    assert slack_stand_in.received[2].headers["X-Slack-Request-Timestamp"] == "not-a-number"


async def test_a_slash_command_carries_slacks_fields_and_a_fresh_trigger(
    slack_stand_in: StandInApp, slack_driver: SlackDriver, slack_emulator: SlackEmulator
) -> None:
    response = await slack_driver.slash_command("buy 10 AAPL", channel_id="C0TRADING", channel_name="trading")

    form = slack_stand_in.received[0].data
    config = slack_emulator.admin.config()
    assert slack_stand_in.received[0].headers["Content-Type"] == FORM
    assert form["command"] == "/trade" and form["text"] == "buy 10 AAPL"
    assert (form["user_id"], form["user_name"]) == (TRADER, "trader")
    assert (form["channel_id"], form["channel_name"]) == ("C0TRADING", "trading")
    assert (form["team_id"], form["team_domain"], form["api_app_id"]) == (
        config["team_id"],
        config["team_domain"],
        config["app_id"],
    )
    assert form["trigger_id"] == response.trigger_id and form["token"] == config["verification_token"]
    assert form["response_url"].startswith(slack_emulator.origin + "/commands/")
    trigger = slack_emulator.admin.trigger(form["trigger_id"])
    assert (trigger["user_id"], trigger["exchanged"]) == (TRADER, False)
    assert "C0TRADING" in slack_emulator.admin.channels()  # the channel exists now, for chat.postMessage


async def test_a_button_in_a_dm_sends_the_message_and_a_response_url(
    slack_stand_in: StandInApp, slack_driver: SlackDriver, slack_emulator: SlackEmulator
) -> None:
    await slack_stand_in.client.chat_postMessage(channel=TRADER, text="Trade executed", blocks=BLOCKS)
    message = slack_driver.messages_to()[0]

    await slack_driver.block_action(message, "new_trade")

    payload = slack_stand_in.received[-1].data
    assert payload["container"]["type"] == "message" and payload["container"]["message_ts"] == message["ts"]
    assert payload["channel"]["id"] == message["channel"] == slack_emulator.admin.dm_channel(TRADER)
    assert payload["message"]["ts"] == message["ts"] and payload["message"]["text"] == "Trade executed"
    async with aiohttp.ClientSession() as session:
        answer = await session.post(payload["response_url"], json={"text": "Opening a new trade…"})
        assert (answer.status, await answer.text()) == (200, "ok")
    assert [m["kind"] for m in slack_emulator.admin.messages(user=TRADER)] == ["message", "response_url"]


async def test_app_home_opened_is_an_event_callback_that_carries_the_published_home(
    slack_stand_in: StandInApp, slack_driver: SlackDriver, slack_emulator: SlackEmulator
) -> None:
    await slack_driver.app_home_opened()
    await slack_stand_in.client.views_publish(user_id=TRADER, view=HOME)
    redelivery = {"type": "app_home_opened", "user": TRADER, "channel": "D0REDELIVER", "tab": "home"}
    await slack_driver.send_event(redelivery, retry_num=1)
    await slack_driver.app_home_opened()

    first, redelivered, second = (r.data for r in slack_stand_in.received)
    config = slack_emulator.admin.config()
    assert slack_stand_in.received[0].headers["Content-Type"] == "application/json"
    assert first["type"] == "event_callback" and first["event_id"].startswith("Ev")
    assert (first["team_id"], first["api_app_id"]) == (config["team_id"], config["app_id"])
    assert first["authorizations"][0]["user_id"] == config["bot_user_id"]
    event = first["event"]
    assert (event["type"], event["user"], event["tab"]) == ("app_home_opened", TRADER, "home")
    assert event["channel"] == slack_emulator.admin.dm_channel(TRADER) and "view" not in event
    assert second["event"]["view"] == slack_driver.home_view()
    assert slack_stand_in.received[1].headers["X-Slack-Retry-Num"] == "1"
    assert redelivered["event"]["channel"] == "D0REDELIVER"


async def test_url_verification_and_ssl_check(slack_stand_in: StandInApp, slack_driver: SlackDriver) -> None:
    async def echo(received: Received) -> web.Response:
        return web.json_response({"challenge": received.data["challenge"]})

    slack_stand_in.answer = echo
    verified = await slack_driver.url_verification("the-challenge")
    slack_stand_in.answer = just_ack
    checked = await slack_driver.ssl_check()

    assert slack_stand_in.received[0].data["type"] == "url_verification"
    assert verified.body == {"challenge": "the-challenge"}
    assert slack_stand_in.received[1].data["ssl_check"] == "1" and slack_stand_in.received[1].data["token"]
    assert checked.status == 200


async def test_an_app_slower_than_the_ack_deadline_times_out(
    slack_stand_in: StandInApp, slack_driver: SlackDriver, slack_emulator: SlackEmulator
) -> None:
    impatient = SlackDriver(
        slack_driver.ingress_url, slack_stand_in.signing_secret, slack_emulator, ack_timeout_s=0.2
    )

    async def slow(received: Received) -> web.Response:
        await asyncio.sleep(0.5)
        return web.Response(status=200)

    slack_stand_in.answer = slow
    with pytest.raises(AckTimeout):
        await impatient.slash_command("buy 1 AAPL")
