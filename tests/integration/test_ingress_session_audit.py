"""Session audit over real sockets: Slack's side (the emulator's driver) talks to the ingress, which journals
every interaction with its user, team, channel, action and request timestamp, and never a secret."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackDriver, SlackEmulator
from messages.events import SubmitTrade
from messages.records import ActivityEvent
from tests.waiting import eventually
from workers.access.journal import Journal
from workers.access.roles import CachedRoles, grant
from workers.slack.ingress import Ingress
from workers.store.memory.store import MemoryTradeStore


@dataclass
class Served:
    store: MemoryTradeStore
    ingress: Ingress
    url: str
    published: list[SubmitTrade]
    emulator: SlackEmulator

    def driver(self, user_id: str) -> SlackDriver:
        return SlackDriver(self.url, self.emulator.signing_secret, self.emulator, user_id=user_id)


async def _no_price(symbol: str) -> Decimal | None:
    return None


@pytest.fixture
async def served(slack_emulator: SlackEmulator) -> AsyncIterator[Served]:
    store = MemoryTradeStore()
    journal = Journal(store, 2557)
    await grant(store, journal, "UTRADER", ["trader"], by="UADMIN")
    await grant(store, journal, "UVIEWER", ["viewer"], by="UADMIN")
    published: list[SubmitTrade] = []
    ingress = Ingress(
        signing_secret=slack_emulator.signing_secret,
        client=AsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url),
        publish=published.append,
        ready=lambda: True,
        store=store,
        prices=_no_price,
        roles=CachedRoles(store, ttl_s=0),
    )
    server = TestServer(ingress.web_app())
    await server.start_server()
    yield Served(store, ingress, str(server.make_url("/slack/events")), published, slack_emulator)
    await server.close()
    await ingress.close()


async def journaled(
    store: MemoryTradeStore, stream: str, wanted: Callable[[list[ActivityEvent]], bool], timeout: float = 10
) -> list[ActivityEvent]:
    """The stream's entries of the last hour once `wanted` holds of them (written after Slack's ack)."""
    deadline = time.monotonic() + timeout
    while True:
        now = datetime.now(UTC)
        entries = await store.list_activity(stream, now - timedelta(hours=1), now + timedelta(seconds=1))  # type: ignore[arg-type]
        if wanted(entries):
            return entries
        if time.monotonic() > deadline:
            raise AssertionError(f"{stream} journal never held what was wanted: {entries}")
        await asyncio.sleep(0.05)


def of_type(*types: str) -> Callable[[list[ActivityEvent]], bool]:
    return lambda entries: [e.event_type for e in entries] == list(types)


async def modal_opened_on(driver: SlackDriver, trigger_id: str) -> dict[str, Any]:
    """The modal the ingress opened on the trigger: it does so just after answering the command."""
    view: dict[str, Any] = await asyncio.to_thread(eventually, lambda: driver.opened_view(trigger_id), 10)
    return view


def _secrets(served: Served) -> list[str]:
    return [served.emulator.bot_token, served.emulator.signing_secret]


async def test_a_trade_from_slack_is_journaled_step_by_step_with_who_where_and_when(served: Served) -> None:
    driver = served.driver("UTRADER")
    command = await driver.slash_command("buy 10 AAPL")
    view = await modal_opened_on(driver, command.trigger_id)
    assert view is not None
    answer = await driver.submit_view(view)
    assert answer.body["response_action"] == "update"
    [submitted] = served.published
    entries = await journaled(
        served.store, "session", of_type("slash_command", "modal_opened", "view_submission")
    )
    config = served.emulator.admin.config()
    slash, opened, submission = entries
    assert all(e.actor == "UTRADER" and e.details["team_id"] == config["team_id"] for e in entries)
    assert slash.details["channel_id"] == next(iter(config["channels"]))
    assert slash.details["command"] == "/trade" and slash.details["text"] == "buy 10 AAPL"
    assert slash.details["outcome"] == "modal_opened"
    assert opened.details["trade_id"] == str(submitted.trade_id) == submission.details["trade_id"]
    assert opened.details["view_id"] == view["id"] == submission.details["view_id"]
    assert submission.details["outcome"] == "submitted"
    for entry in entries:  # Slack's request timestamp, as the request carried it, and where it came from
        assert abs(int(entry.details["request_ts"]) - time.time()) < 300  # inside the signature window
        assert entry.details["source_address"] == "127.0.0.1"
        assert entry.expires_at > time.time() + 7 * 365 * 86400
    written = json.dumps([msgspec_builtins(e) for e in entries])
    for never in (*_secrets(served), command.trigger_id, answer.trigger_id, "response_url", "hooks.slack"):
        assert never not in written, never


async def test_help_and_form_errors_are_journaled_with_their_outcome(served: Served) -> None:
    driver = served.driver("UTRADER")
    await driver.slash_command("help")
    command = await driver.slash_command("")
    view = await modal_opened_on(driver, command.trigger_id)
    await driver.submit_view(view, {"side": "buy", "symbol": "aa$", "quantity": "-3"})
    entries = await journaled(
        served.store, "session", of_type("slash_command", "slash_command", "modal_opened", "view_submission")
    )
    assert entries[0].details["outcome"] == "help"
    assert entries[3].details["outcome"] == "form_errors"
    assert {"symbol", "quantity"} <= set(entries[3].details["fields"])
    assert served.published == []


async def test_a_bad_signature_is_refused_and_journaled_with_its_source_address(served: Served) -> None:
    driver = served.driver("UTRADER")
    forged = "v0=" + "0" * 64
    body = "command=%2Ftrade&text=buy+10000+AAPL&user_id=UTRADER&team_id=T1&channel_id=C1&trigger_id=X1"
    refused = await driver.post_signed(
        body,
        "application/x-www-form-urlencoded",
        signature=forged,
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert refused.status == 401
    [entry] = await journaled(served.store, "access", lambda entries: len(entries) == 1)
    assert entry.event_type == "signature_refused" and entry.actor == ""
    assert entry.details["source_address"] == "127.0.0.1"
    assert entry.details["forwarded_for"] == "203.0.113.9"
    assert "does not match" in entry.details["reason"]
    written = json.dumps(msgspec_builtins(entry))
    assert forged not in written and "10000" not in written and served.emulator.signing_secret not in written
    assert await journaled(served.store, "session", lambda entries: entries == []) == []
    assert served.published == []


async def test_the_app_home_is_shown_to_viewers_and_traders_and_politely_refused_to_others(
    served: Served,
) -> None:
    for user in ("UVIEWER", "UTRADER", "USTRANGER"):
        await served.driver(user).app_home_opened(user)
    entries = await journaled(served.store, "session", lambda entries: len(entries) == 3)
    outcomes = {e.actor: e.details["outcome"] for e in entries}
    assert outcomes == {"UVIEWER": "published", "UTRADER": "published", "USTRANGER": "no_access"}
    assert all(e.event_type == "app_home_opened" and e.details["tab"] == "home" for e in entries)
    stranger = await asyncio.to_thread(lambda: served.driver("USTRANGER").home_view("USTRANGER"))
    assert "do not have access" in json.dumps(stranger) and "New trade" not in json.dumps(stranger)
    viewer = await asyncio.to_thread(lambda: served.driver("UVIEWER").home_view("UVIEWER"))
    assert "New trade" in json.dumps(viewer)


def msgspec_builtins(entry: ActivityEvent) -> Any:
    import msgspec

    return msgspec.to_builtins(entry)


async def test_a_body_that_cannot_be_read_is_refused_and_journaled(served: Served) -> None:
    driver = served.driver("UTRADER")
    unshaped = await driver.post_signed('{"no": "type"}', "application/json")
    assert unshaped.status == 400
    entries = await journaled(served.store, "access", lambda entries: len(entries) == 1)
    assert [(e.event_type, e.details["reason"]) for e in entries] == [
        ("body_refused", "the request has no type")
    ]
    assert entries[0].details["source_address"] == "127.0.0.1"


async def test_trade_notify_sets_the_users_own_alerts_and_journals_the_change(served: Served) -> None:
    driver = served.driver("UTRADER")
    answer = await driver.slash_command("notify email me@example.com")
    assert answer.status == 200 and answer.body["response_type"] == "ephemeral"
    assert "Saved." in answer.body["text"] and "me@example.com" in answer.body["text"]
    answer = await driver.slash_command("notify events large_trade,halt")
    choice = (await served.store.get_alert_preferences()).users["UTRADER"]
    assert choice.email == "me@example.com" and set(choice.kinds) == {"large_trade", "halt"}
    bad = await driver.slash_command("notify email not-an-address")
    assert "Saved." not in bad.body["text"]
    assert (await served.store.get_alert_preferences()).users["UTRADER"].email == "me@example.com"
    entries = await journaled(
        served.store,
        "session",
        lambda found: [e.event_type for e in found].count("alert_preferences_set") == 2,
    )
    assert all(e.actor == "UTRADER" for e in entries if e.event_type == "alert_preferences_set")
    nobody = await served.driver("UNOBODY").slash_command("notify email x@example.com")
    assert (
        "ask an admin" in nobody.body["text"]
        and "UNOBODY" not in (await served.store.get_alert_preferences()).users
    )
