"""Pytest fixtures for the Slack emulator: one server for the session, reset before each test; and, for
driver tests, a stand-in app behind a Request URL with a SlackDriver pointed at it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackDriver, SlackEmulator


@pytest.fixture(scope="session")
def slack_emulator_server() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def slack_emulator(slack_emulator_server: SlackEmulator) -> SlackEmulator:
    """The session's emulator, back in its start state: no calls, views, messages, triggers or faults."""
    slack_emulator_server.admin.reset()
    return slack_emulator_server


@pytest.fixture
def slack_client(slack_emulator: SlackEmulator) -> AsyncWebClient:
    """slack-sdk's AsyncWebClient on the emulator, with the bot token (and slack-sdk's default retries)."""
    return AsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url)


@pytest.fixture
def slack_sync_client(slack_emulator: SlackEmulator) -> WebClient:
    return WebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url)


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    signed: bool
    data: dict[str, Any]  # the JSON body, the form, or the form's decoded `payload`


Answer = Callable[[Received], Awaitable[web.Response]]


async def just_ack(received: Received) -> web.Response:
    return web.Response(status=200)


def answer_json(body: dict[str, Any]) -> Answer:
    async def answer(received: Received) -> web.Response:
        return web.json_response(body)

    return answer


class StandInApp:
    """What sits behind the Request URL in driver tests: it checks each request with slack-sdk's
    SignatureVerifier (401 when unproven), keeps it, and answers with `answer` (by default an empty ack).
    `client` is an AsyncWebClient on the emulator, for answers that call Slack back."""

    def __init__(self, emulator: SlackEmulator) -> None:
        self.signing_secret = emulator.signing_secret
        self.client = AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url)
        self.verifier = SignatureVerifier(self.signing_secret)
        self.received: list[Received] = []
        self.answer: Answer = just_ack
        app = web.Application()
        app.router.add_post("/slack/events", self._handle)
        self.server = TestServer(app)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/slack/events"))

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            signed = self.verifier.is_valid_request(body, dict(request.headers))
        except ValueError:  # a non-numeric timestamp: slack-sdk's int() raises
            signed = False
        if request.content_type == "application/json":
            data = json.loads(body)
        else:
            data = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
            if "payload" in data:
                data = json.loads(data["payload"])
        received = Received(dict(request.headers), body, signed, data)
        self.received.append(received)
        if not signed:
            return web.json_response({"ok": False}, status=401)
        return await self.answer(received)


@pytest.fixture
async def slack_stand_in(slack_emulator: SlackEmulator) -> AsyncIterator[StandInApp]:
    stand_in = StandInApp(slack_emulator)
    await stand_in.server.start_server()
    yield stand_in
    await stand_in.server.close()


@pytest.fixture
def slack_driver(slack_stand_in: StandInApp, slack_emulator: SlackEmulator) -> SlackDriver:
    """Slack's side, sending to the stand-in app, signed with the emulator's signing secret."""
    return SlackDriver(slack_stand_in.url, slack_stand_in.signing_secret, slack_emulator)
