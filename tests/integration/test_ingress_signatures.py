"""The ingress refuses every request whose Slack signature is not proven, with 401, and acts on none."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.web.async_client import AsyncWebClient

from messages.events import SubmitTrade
from tests.ingress_app import no_price, served_ingress
from workers.slack.ingress import Ingress
from workers.store.memory.store import MemoryTradeStore

SECRET = "test-signing-secret"
BODY = urlencode(
    {
        "command": "/trade",
        "text": "buy 10 AAPL",
        "user_id": "U123",
        "trigger_id": "T1",
        "channel_id": "C1",
        "team_id": "T0",
    }
)


def sign(body: str, timestamp: str, secret: str = SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()


@pytest.fixture
async def ingress() -> AsyncIterator[tuple[TestClient, list[SubmitTrade]]]:
    async with served_ingress(SECRET) as served:
        yield served


async def _post(client: TestClient, body: str, headers: dict[str, str]) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    return await client.post("/slack/events", data=body, headers=headers)


async def test_a_forged_signature_is_refused(ingress: tuple[TestClient, list[SubmitTrade]]) -> None:
    client, published = ingress
    now = str(int(time.time()))
    response = await _post(
        client,
        BODY,
        {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(BODY, now, "not-the-secret")},
    )
    assert response.status == 401 and published == []


async def test_a_stale_timestamp_is_refused(ingress: tuple[TestClient, list[SubmitTrade]]) -> None:
    client, published = ingress
    stale = str(int(time.time()) - 301)
    response = await _post(
        client, BODY, {"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": sign(BODY, stale)}
    )
    assert response.status == 401 and published == []


@pytest.mark.parametrize("missing", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
async def test_missing_headers_are_refused(
    ingress: tuple[TestClient, list[SubmitTrade]], missing: str
) -> None:
    client, published = ingress
    now = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(BODY, now)}
    del headers[missing]
    response = await _post(client, BODY, headers)
    assert response.status == 401 and published == []


async def test_a_non_numeric_timestamp_is_refused_with_401_not_500(
    ingress: tuple[TestClient, list[SubmitTrade]],
) -> None:
    client, published = ingress
    response = await _post(
        client, BODY, {"X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": sign(BODY, "yesterday")}
    )
    assert response.status == 401 and published == []


async def test_a_body_changed_after_signing_is_refused(ingress: tuple[TestClient, list[SubmitTrade]]) -> None:
    client, published = ingress
    now = str(int(time.time()))
    signature = sign(BODY, now)
    changed = BODY.replace("buy+10", "buy+10000")
    response = await _post(
        client, changed, {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": signature}
    )
    assert response.status == 401 and published == []


async def test_url_verification_and_health_are_answered(
    ingress: tuple[TestClient, list[SubmitTrade]],
) -> None:
    client, _ = ingress
    body = '{"type": "url_verification", "challenge": "c-123", "token": "t"}'
    now = str(int(time.time()))
    response = await client.post(
        "/slack/events",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": now,
            "X-Slack-Signature": sign(body, now),
        },
    )
    assert response.status == 200 and (await response.json())["challenge"] == "c-123"
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200


async def test_help_bad_text_and_views_without_a_role_get_an_ephemeral_answer(
    ingress: tuple[TestClient, list[SubmitTrade]],
) -> None:
    client, published = ingress
    for text, words in (
        ("help", "/trade buy 100 AAPL"),
        ("hold 10 AAPL", "not a side"),
        ("orders", "ask an admin to grant you the *viewer* or *trader* role"),  # U123 has no role here
        ("positions", "ask an admin to grant you the *viewer* or *trader* role"),
    ):
        body = urlencode(
            {
                "command": "/trade",
                "text": text,
                "user_id": "U123",
                "trigger_id": "T1",
                "channel_id": "C1",
                "team_id": "T0",
            }
        )
        now = str(int(time.time()))
        response = await _post(
            client, body, {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(body, now)}
        )
        assert response.status == 200
        assert words in (await response.json())["text"]
    assert published == []


async def test_with_rabbitmq_down_the_modal_says_the_trade_was_not_submitted() -> None:
    import json

    from tests.unit.test_slack_forms import GOOD, submitted
    from workers.chain.publisher import Publisher
    from workers.console.stack.ports import free_port
    from workers.settings import load_settings
    from workers.slack.ingress import NOT_SUBMITTED

    dead = load_settings({"RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"})
    publisher = Publisher(dead)
    app = Ingress(
        signing_secret=SECRET,
        client=AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/"),
        publish=publisher.submit,
        ready=lambda: False,
        store=MemoryTradeStore(),
        prices=no_price,
    )
    client = TestClient(TestServer(app.web_app()))
    await client.start_server()
    try:
        view = {**submitted(GOOD), "callback_id": "trade_modal", "type": "modal"}
        payload = {
            "type": "view_submission",
            "user": {"id": "U123"},
            "team": {"id": "T0"},
            "view": view,
            "api_app_id": "A1",
            "trigger_id": "T1",
        }
        body = urlencode({"payload": json.dumps(payload)})
        now = str(int(time.time()))
        response = await _post(
            client, body, {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(body, now)}
        )
        answer = await response.json()
        assert response.status == 200 and answer["response_action"] == "errors"
        assert NOT_SUBMITTED in answer["errors"].values()
        assert (await client.get("/readyz")).status == 503
    finally:
        await client.close()
        await app.close()
        publisher.close()
