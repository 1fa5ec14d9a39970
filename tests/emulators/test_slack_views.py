"""Trigger ids and views: single use, a short life, optimistic hashes, and modals that close."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator

TRADER = "U0TRADER01"
MODAL: dict[str, Any] = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "New trade"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Pick a side"}}],
}


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    assert raised.value.response.status_code == 200
    return str(raised.value.response["error"])


async def open_modal(client: AsyncWebClient, emulator: SlackEmulator, **changes: Any) -> dict[str, Any]:
    trigger_id = emulator.admin.mint_trigger(TRADER)
    return (await client.views_open(trigger_id=trigger_id, view={**MODAL, **changes}))["view"]


async def test_a_trigger_opens_one_view_only(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    trigger_id = slack_emulator.admin.mint_trigger(TRADER)

    view = (await slack_client.views_open(trigger_id=trigger_id, view=MODAL))["view"]

    assert (
        await error_of(slack_client.views_open(trigger_id=trigger_id, view=MODAL)) == "exchanged_trigger_id"
    )
    trigger = slack_emulator.admin.trigger(trigger_id)
    assert trigger["exchanged"] is True and trigger["view_id"] == view["id"]
    assert len(slack_emulator.admin.views(trigger_id=trigger_id)) == 1


async def test_a_trigger_expires_after_its_lifetime(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.admin.reset(trigger_ttl_s=0.2)  # Slack's is 3 s; the lifetime is the point, not its length
    fresh = slack_emulator.admin.mint_trigger(TRADER)
    stale = slack_emulator.admin.mint_trigger(TRADER)

    await slack_client.views_open(trigger_id=fresh, view=MODAL)
    await asyncio.sleep(0.3)

    assert await error_of(slack_client.views_open(trigger_id=stale, view=MODAL)) == "expired_trigger_id"
    assert slack_emulator.admin.trigger(stale)["exchanged"] is False


async def test_a_trigger_slack_never_minted_is_invalid(slack_client: AsyncWebClient) -> None:
    assert await error_of(slack_client.views_open(trigger_id="12345.98765.abcd2358fdea", view=MODAL)) == (
        "invalid_trigger_id"
    )
    assert await error_of(slack_client.views_open(trigger_id="T1", view=MODAL)) == "invalid_trigger_id"


async def test_an_update_with_a_stale_hash_is_a_hash_conflict(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    opened = await open_modal(slack_client, slack_emulator)
    await slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)

    error = await error_of(slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL))

    assert error == "hash_conflict"
    assert slack_emulator.admin.view(opened["id"])["versions"] == 2


async def test_an_update_without_a_hash_always_wins(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    opened = await open_modal(slack_client, slack_emulator)

    for _ in range(2):
        await slack_client.views_update(view_id=opened["id"], view=MODAL)

    assert slack_emulator.admin.view(opened["id"])["versions"] == 3


async def test_updating_an_unknown_or_closed_view_is_not_found(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    opened = await open_modal(slack_client, slack_emulator)
    slack_emulator.admin.close_view(opened["id"])

    assert await error_of(slack_client.views_update(view_id="V0NOSUCHVIEW", view=MODAL)) == "not_found"
    assert await error_of(slack_client.views_update(view_id=opened["id"], view=MODAL)) == "not_found"
    assert slack_emulator.admin.view(opened["id"])["closed_reason"] == "closed_by_user"


async def test_views_by_external_id(slack_client: AsyncWebClient, slack_emulator: SlackEmulator) -> None:
    opened = await open_modal(slack_client, slack_emulator, external_id="trade-t-1")

    updated = await slack_client.views_update(
        external_id="trade-t-1", view={**MODAL, "external_id": "trade-t-1"}
    )

    assert updated["view"]["id"] == opened["id"]
    assert await error_of(open_modal(slack_client, slack_emulator, external_id="trade-t-1")) == (
        "duplicate_external_id"
    )


async def test_an_update_cannot_turn_a_modal_into_a_home(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    opened = await open_modal(slack_client, slack_emulator)

    home = {"type": "home", "blocks": []}

    assert await error_of(slack_client.views_update(view_id=opened["id"], view=home)) == "invalid_arguments"
