"""The driver and modals: the app opens one on the driver's trigger, the driver submits it with values
under the right block and action ids, and the modal follows the app's answer as Slack's client would."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError

from emulators.slack import SlackDriver
from tests.fixtures_slack import Received, StandInApp, answer_json, just_ack

TRADER = "U0TRADER01"


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


def _input(block_id: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    label = {"type": "plain_text", "text": block_id}
    return {"type": "input", "block_id": block_id, "optional": optional, "label": label, "element": element}


TRADE_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "trade_submit",
    "private_metadata": '{"trade_id": "t-1", "channel_id": "C0EMUGENERAL"}',
    "title": {"type": "plain_text", "text": "New trade"},
    "submit": {"type": "plain_text", "text": "Execute Trade"},
    "blocks": [
        _input(
            "side",
            {"type": "static_select", "action_id": "side_pick", "options": [_option("buy"), _option("sell")]},
        ),
        _input("symbol", {"type": "plain_text_input", "action_id": "symbol_text", "max_length": 10}),
        _input(
            "quantity",
            {"type": "number_input", "action_id": "qty", "is_decimal_allowed": False, "min_value": "1"},
        ),
        _input(
            "note",
            {"type": "plain_text_input", "action_id": "note", "initial_value": "from /trade"},
            optional=True,
        ),
    ],
}
SUBMITTING: dict[str, Any] = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "New trade"},
    "blocks": [{"type": "section", "block_id": "status", "text": {"type": "mrkdwn", "text": "Submitting…"}}],
}
BUTTON = {
    "type": "button",
    "action_id": "new_trade",
    "value": "new",
    "text": {"type": "plain_text", "text": "New"},
}
HOME: dict[str, Any] = {
    "type": "home",
    "blocks": [{"type": "actions", "block_id": "home_actions", "elements": [BUTTON]}],
}
ORDER = {"side": "buy", "symbol": "AAPL", "quantity": 10}


async def open_trade_modal(app: StandInApp, driver: SlackDriver) -> dict[str, Any]:
    async def on_command(received: Received) -> web.Response:
        await app.client.views_open(trigger_id=received.data["trigger_id"], view=TRADE_MODAL)
        return web.Response(status=200)

    app.answer = on_command
    response = await driver.slash_command("buy 10 AAPL")
    assert response.status == 200 and response.trigger_id
    view = driver.opened_view(response.trigger_id)
    assert view is not None
    app.answer = just_ack
    return view


async def test_the_app_opens_its_modal_on_the_commands_trigger(
    slack_stand_in: StandInApp, slack_driver: SlackDriver
) -> None:
    view = await open_trade_modal(slack_stand_in, slack_driver)

    assert (
        view["callback_id"] == "trade_submit" and view["private_metadata"] == TRADE_MODAL["private_metadata"]
    )
    assert slack_driver.last_view_opened() == view
    assert slack_driver.view_record(view["id"])["status"] == "open"


async def test_submit_view_puts_each_value_under_its_block_and_action_ids(
    slack_stand_in: StandInApp, slack_driver: SlackDriver
) -> None:
    view = await open_trade_modal(slack_stand_in, slack_driver)

    response = await slack_driver.submit_view(view, ORDER)

    payload = slack_stand_in.received[-1].data
    assert payload["type"] == "view_submission"
    assert payload["user"]["id"] == TRADER and payload["team"]["id"] and payload["api_app_id"]
    assert payload["trigger_id"] == response.trigger_id
    assert (payload["view"]["id"], payload["view"]["hash"]) == (view["id"], view["hash"])
    assert payload["view"]["callback_id"] == "trade_submit"
    assert payload["view"]["private_metadata"] == TRADE_MODAL["private_metadata"]
    assert payload["view"]["state"]["values"] == {
        "side": {"side_pick": {"type": "static_select", "selected_option": _option("buy")}},
        "symbol": {"symbol_text": {"type": "plain_text_input", "value": "AAPL"}},
        "quantity": {"qty": {"type": "number_input", "value": "10"}},
        "note": {
            "note": {"type": "plain_text_input", "value": "from /trade"}
        },  # untouched: its initial value
    }


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"side": "buy", "symbol": "AAPL"}, "block quantity is required"),
        ({**ORDER, "side": "hold"}, "no option with value 'hold'"),
        ({**ORDER, "quantity": "1.5"}, "not a whole number"),
        ({**ORDER, "quantity": 0}, "is outside"),
        ({**ORDER, "symbol": "A" * 11}, "11 characters"),
        ({**ORDER, "price": "10"}, "no blocks"),
    ],
)
async def test_submit_view_refuses_what_slacks_client_would_not_send(
    slack_stand_in: StandInApp, slack_driver: SlackDriver, values: dict[str, Any], problem: str
) -> None:
    view = await open_trade_modal(slack_stand_in, slack_driver)

    with pytest.raises(ValueError, match=problem):
        await slack_driver.submit_view(view, values)

    assert len(slack_stand_in.received) == 1  # only the slash command went out


async def test_an_empty_ack_closes_the_modal(slack_stand_in: StandInApp, slack_driver: SlackDriver) -> None:
    view = await open_trade_modal(slack_stand_in, slack_driver)

    response = await slack_driver.submit_view(view, ORDER)

    assert response.body == "" and response.view_outcome is not None
    assert response.view_outcome["outcome"] == "close"
    assert slack_driver.view_record(view["id"])["closed_reason"] == "submitted"
    with pytest.raises(SlackApiError) as raised:
        await slack_stand_in.client.views_update(view_id=view["id"], view=SUBMITTING)
    assert raised.value.response["error"] == "not_found"
    with pytest.raises(ValueError, match="is closed"):
        await slack_driver.submit_view(view, ORDER)


async def test_response_action_update_replaces_the_modal_in_place(
    slack_stand_in: StandInApp, slack_driver: SlackDriver
) -> None:
    view = await open_trade_modal(slack_stand_in, slack_driver)
    slack_stand_in.answer = answer_json({"response_action": "update", "view": SUBMITTING})

    response = await slack_driver.submit_view(view, ORDER)

    assert response.view_outcome is not None and response.view_outcome["outcome"] == "update"
    record = slack_driver.view_record(view["id"])
    assert record["status"] == "open" and record["view"]["blocks"][0]["text"]["text"] == "Submitting…"
    assert record["view"]["hash"] != view["hash"]
    with pytest.raises(SlackApiError) as raised:  # the hash the app saw on submission is stale now
        await slack_stand_in.client.views_update(view_id=view["id"], hash=view["hash"], view=SUBMITTING)
    assert raised.value.response["error"] == "hash_conflict"
    current = record["view"]["hash"]
    assert (await slack_stand_in.client.views_update(view_id=view["id"], hash=current, view=SUBMITTING))["ok"]


async def test_response_action_errors_keep_the_modal_open_with_them(
    slack_stand_in: StandInApp, slack_driver: SlackDriver
) -> None:
    view = await open_trade_modal(slack_stand_in, slack_driver)
    slack_stand_in.answer = answer_json({"response_action": "errors", "errors": {"symbol": "Unknown symbol"}})

    response = await slack_driver.submit_view(view, {**ORDER, "symbol": "ZZZZ"})

    assert response.view_outcome is not None and response.view_outcome["outcome"] == "errors"
    record = slack_driver.view_record(view["id"])
    assert (record["status"], record["errors"]) == ("open", {"symbol": "Unknown symbol"})
    assert record["view"]["state"]["values"]["symbol"]["symbol_text"]["value"] == "ZZZZ"

    slack_stand_in.answer = just_ack
    await slack_driver.submit_view(view, {"symbol": "MSFT"})  # the user fixes one field, keeps the rest

    values = slack_stand_in.received[-1].data["view"]["state"]["values"]
    assert values["symbol"]["symbol_text"]["value"] == "MSFT"
    assert values["side"]["side_pick"]["selected_option"]["value"] == "buy"
    assert values["quantity"]["qty"]["value"] == "10"


async def test_errors_for_a_block_that_is_not_an_input_are_refused(
    slack_stand_in: StandInApp, slack_driver: SlackDriver
) -> None:
    view = await open_trade_modal(slack_stand_in, slack_driver)
    slack_stand_in.answer = answer_json({"response_action": "errors", "errors": {"price": "Too high"}})

    response = await slack_driver.submit_view(view, ORDER)

    assert response.view_outcome is not None and response.view_outcome["outcome"] == "invalid_response"
    assert slack_driver.view_record(view["id"])["errors"] is None


async def test_a_button_in_app_home_sends_block_actions_with_a_usable_trigger(
    slack_stand_in: StandInApp, slack_driver: SlackDriver
) -> None:
    await slack_stand_in.client.views_publish(user_id=TRADER, view=HOME)
    home = slack_driver.home_view()
    assert home is not None

    async def on_click(received: Received) -> web.Response:
        await slack_stand_in.client.views_open(trigger_id=received.data["trigger_id"], view=TRADE_MODAL)
        return web.Response(status=200)

    slack_stand_in.answer = on_click
    response = await slack_driver.block_action(home, "new_trade")

    payload = slack_stand_in.received[-1].data
    assert payload["type"] == "block_actions"
    assert payload["container"] == {"type": "view", "view_id": home["id"]}
    assert payload["view"]["id"] == home["id"] and payload["user"]["id"] == TRADER
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["type"], action["value"]) == (
        "new_trade",
        "home_actions",
        "button",
        "new",
    )
    assert response.trigger_id and slack_driver.opened_view(response.trigger_id) is not None
