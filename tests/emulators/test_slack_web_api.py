"""Each Web API method, seen through unmodified slack-sdk clients: the answers parse, the refusals are
Slack's, and the emulator records every call."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator

TRADER = "U0TRADER01"
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "trade",
    "private_metadata": '{"trade_id": "t-1"}',
    "title": {"type": "plain_text", "text": "New trade"},
    "submit": {"type": "plain_text", "text": "Execute Trade"},
    "blocks": [
        {
            "type": "input",
            "block_id": "symbol",
            "label": {"type": "plain_text", "text": "Symbol"},
            "element": {"type": "plain_text_input", "action_id": "symbol"},
        }
    ],
}
HOME: dict[str, Any] = {
    "type": "home",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Your trades*"}}],
}


async def refusal(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value.response.status_code, raised.value.response.data


async def test_auth_test_says_who_the_bot_is(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    answer = await slack_client.auth_test()

    config = slack_emulator.admin.config()
    assert answer["ok"] is True
    assert answer["user_id"] == config["bot_user_id"] and answer["bot_id"] == config["bot_id"]
    assert answer["team_id"] == config["team_id"]
    assert answer["url"] == f"https://{config['team_domain']}.slack.com/"


async def test_a_missing_token_is_not_authed_and_a_wrong_one_is_invalid_auth(
    slack_emulator: SlackEmulator,
) -> None:
    no_token = AsyncWebClient(base_url=slack_emulator.api_url)
    wrong = AsyncWebClient(token="xoxb-not-this-one", base_url=slack_emulator.api_url)

    assert await refusal(no_token.auth_test()) == (200, {"ok": False, "error": "not_authed"})
    assert await refusal(wrong.chat_postMessage(channel=TRADER, text="hi")) == (
        200,
        {"ok": False, "error": "invalid_auth"},
    )
    assert slack_emulator.admin.messages() == []


async def test_views_open_answers_the_view_slack_holds(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    trigger_id = slack_emulator.admin.mint_trigger(TRADER)

    answer = await slack_client.views_open(trigger_id=trigger_id, view=MODAL)

    view = answer["view"]
    assert view["id"].startswith("V") and view["root_view_id"] == view["id"]
    assert view["type"] == "modal" and view["callback_id"] == "trade"
    assert view["private_metadata"] == MODAL["private_metadata"]
    assert view["title"] == MODAL["title"] and view["submit"] == MODAL["submit"]
    assert view["blocks"][0]["block_id"] == "symbol"
    assert view["state"] == {"values": []}  # an untouched view, as the reference examples show it
    assert view["hash"] and view["team_id"] == slack_emulator.admin.config()["team_id"]
    record = slack_emulator.admin.view(view["id"])
    assert (record["user_id"], record["trigger_id"], record["status"]) == (TRADER, trigger_id, "open")


async def test_blocks_without_ids_get_slack_generated_ones(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    view = {**MODAL, "blocks": [{**MODAL["blocks"][0], "block_id": None}]}
    del view["blocks"][0]["block_id"]
    del view["blocks"][0]["element"]["action_id"]

    opened = (await slack_client.views_open(trigger_id=slack_emulator.admin.mint_trigger(TRADER), view=view))[
        "view"
    ]

    assert opened["blocks"][0]["block_id"] and opened["blocks"][0]["element"]["action_id"]


async def test_views_update_gives_the_same_view_a_new_hash(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    opened = (
        await slack_client.views_open(trigger_id=slack_emulator.admin.mint_trigger(TRADER), view=MODAL)
    )["view"]
    submitting = {**MODAL, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Submitting…"}}]}

    updated = (await slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=submitting))[
        "view"
    ]

    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert updated["blocks"][0]["text"]["text"] == "Submitting…"
    assert slack_emulator.admin.view(opened["id"])["versions"] == 2


async def test_views_publish_keeps_one_home_per_user(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    first = (await slack_client.views_publish(user_id=TRADER, view=HOME))["view"]
    second = (await slack_client.views_publish(user_id=TRADER, view=HOME, hash=first["hash"]))["view"]

    assert first["type"] == "home" and first["id"] == second["id"] and first["hash"] != second["hash"]
    assert [v["hash"] for v in slack_emulator.admin.home_views(TRADER)] == [first["hash"], second["hash"]]
    assert await refusal(slack_client.views_publish(user_id=TRADER, view=HOME, hash=first["hash"])) == (
        200,
        {"ok": False, "error": "hash_conflict"},
    )


async def test_posting_to_a_user_opens_their_dm(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    first = await slack_client.chat_postMessage(channel=TRADER, text="Trade executed", blocks=HOME["blocks"])
    second = await slack_client.chat_postMessage(channel=first["channel"], text="Position updated")

    assert first["channel"].startswith("D") and second["channel"] == first["channel"]
    assert first["channel"] == slack_emulator.admin.dm_channel(TRADER)
    assert first["ts"] < second["ts"] and first["message"]["ts"] == first["ts"]
    assert first["message"]["text"] == "Trade executed" and first["message"]["bot_id"]
    assert first["message"]["blocks"][0]["block_id"]  # Slack fills in block ids
    sent = slack_emulator.admin.messages(user=TRADER)
    assert [(m["kind"], m["text"], m["channel"]) for m in sent] == [
        ("message", "Trade executed", first["channel"]),
        ("message", "Position updated", first["channel"]),
    ]


async def test_channels_by_id_or_name_and_unknown_ones(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    channel_id = next(iter(slack_emulator.admin.channels()))

    assert (await slack_client.chat_postMessage(channel="#general", text="x"))["channel"] == channel_id
    assert (await slack_client.chat_postMessage(channel=channel_id, text="x"))["channel"] == channel_id
    assert await refusal(slack_client.chat_postMessage(channel="C0NOSUCHONE", text="x")) == (
        200,
        {"ok": False, "error": "channel_not_found"},
    )
    assert await refusal(slack_client.chat_postMessage(channel="D0NOSUCHDM", text="x")) == (
        200,
        {"ok": False, "error": "channel_not_found"},
    )


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_a_message_with_nothing_to_say_is_no_text(slack_client: AsyncWebClient) -> None:
    assert await refusal(slack_client.chat_postMessage(channel="#general", text="")) == (
        200,
        {"ok": False, "error": "no_text"},
    )


async def test_ephemeral_messages_answer_a_message_ts(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    answer = await slack_client.chat_postEphemeral(channel="#general", user=TRADER, text="Only you see this")

    assert answer.data == {"ok": True, "message_ts": answer["message_ts"]}
    assert [m["kind"] for m in slack_emulator.admin.messages(user=TRADER)] == ["ephemeral"]


async def test_conversations_open_returns_the_dm(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    opened = await slack_client.conversations_open(users=TRADER)
    again = await slack_client.conversations_open(users=TRADER, return_im=True)

    assert opened["channel"]["id"] == again["channel"]["id"] == slack_emulator.admin.dm_channel(TRADER)
    assert (
        again["already_open"] is True
        and again["channel"]["is_im"] is True
        and again["channel"]["user"] == TRADER
    )


async def test_conversations_history_pages_newest_first_with_metadata_on_request(
    slack_client: AsyncWebClient,
) -> None:
    posted = [
        await slack_client.chat_postMessage(
            channel=TRADER,
            text=f"notice {n}",
            metadata={"event_type": "trade_outcome", "event_payload": {"n": n}},
        )
        for n in range(3)
    ]
    dm = posted[0]["channel"]

    first = await slack_client.conversations_history(channel=dm, limit=2, include_all_metadata=True)
    rest = await slack_client.conversations_history(
        channel=dm, limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    plain = await slack_client.conversations_history(channel=dm, oldest=posted[0]["ts"])

    assert [m["text"] for m in first["messages"]] == ["notice 2", "notice 1"] and first["has_more"]
    assert [m["metadata"]["event_payload"]["n"] for m in first["messages"]] == [2, 1]
    assert [m["ts"] for m in rest["messages"]] == [posted[0]["ts"]] and rest["has_more"] is False
    assert [m["text"] for m in plain["messages"]] == ["notice 2", "notice 1"]  # oldest is exclusive
    assert all("metadata" not in m for m in plain["messages"])
    with pytest.raises(SlackApiError) as refused:
        await slack_client.conversations_history(channel="D0NOTADM")
    assert refused.value.response["error"] == "channel_not_found"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": {"type": "plain_text", "text": "A title longer than 24 characters"}}, "/view/title/text"),
        ({"private_metadata": "x" * 3001}, "/view/private_metadata"),
        ({"submit": None}, "must provide submit property when using input blocks"),
        ({"blocks": None}, "missing required field: blocks"),
    ],
)
async def test_views_slack_would_not_show_are_invalid_arguments(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator, change: dict[str, Any], message: str
) -> None:
    trigger_id = slack_emulator.admin.mint_trigger(TRADER)
    view = {k: v for k, v in {**MODAL, **change}.items() if v is not None}

    status, body = await refusal(slack_client.views_open(trigger_id=trigger_id, view=view))

    assert (status, body["error"]) == (200, "invalid_arguments")
    assert any(message in m for m in body["response_metadata"]["messages"])
    assert slack_emulator.admin.trigger(trigger_id)["exchanged"] is False  # a refused view spends nothing


async def test_missing_arguments_are_invalid_arguments(slack_client: AsyncWebClient) -> None:
    status, body = await refusal(slack_client.views_open(view=MODAL))
    assert body == {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": ["invalid `trigger_id`"]},
    }

    status, body = await refusal(slack_client.views_publish(user_id="not-a-user", view=HOME))
    assert (status, body["error"]) == (200, "invalid_arguments")


async def test_an_unknown_method_is_unknown_method(slack_client: AsyncWebClient) -> None:
    status, body = await refusal(slack_client.api_call("trades.explode"))

    assert (status, body) == (404, {"ok": False, "error": "unknown_method", "req_method": "trades.explode"})


def test_the_sync_web_client_sends_forms_and_reads_answers(
    slack_sync_client: WebClient, slack_emulator: SlackEmulator
) -> None:
    trigger_id = slack_emulator.admin.mint_trigger(TRADER)

    opened = slack_sync_client.views_open(trigger_id=trigger_id, view=MODAL)
    posted = slack_sync_client.api_call("chat.postMessage", data={"channel": TRADER, "text": "form-encoded"})

    assert opened["view"]["callback_id"] == "trade"
    assert posted["message"]["text"] == "form-encoded"


async def test_every_call_is_recorded_in_order(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    await slack_client.auth_test()
    await slack_client.chat_postMessage(channel=TRADER, text="one")
    await refusal(slack_client.chat_postMessage(channel="C0NOSUCHONE", text="two"))

    calls = slack_emulator.admin.calls()

    assert [(c["seq"], c["method"], c["status"]) for c in calls] == [
        (1, "auth.test", 200),
        (2, "chat.postMessage", 200),
        (3, "chat.postMessage", 200),
    ]
    assert all(c["token"] == slack_emulator.bot_token for c in calls)
    assert calls[1]["params"] == {"channel": TRADER, "text": "one"}
    assert calls[2]["response"] == {"ok": False, "error": "channel_not_found"}
    assert calls[0]["at_s"] <= calls[1]["at_s"] <= calls[2]["at_s"]
    assert slack_emulator.admin.call_count("chat.postMessage") == 2
