"""The Slack ingress served in-process on a test server, publishing into a list; Slack is a refused port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.web.async_client import AsyncWebClient

from messages.events import SubmitTrade
from workers.slack.ingress import Ingress
from workers.store.memory.store import MemoryTradeStore


async def no_price(symbol: str) -> Decimal | None:
    return None


@asynccontextmanager
async def served_ingress(secret: str) -> AsyncIterator[tuple[TestClient, list[SubmitTrade]]]:
    """(a client of the ingress, what it published); every Web API call it makes fails fast."""
    published: list[SubmitTrade] = []
    app = Ingress(
        signing_secret=secret,
        client=AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/", timeout=1),
        publish=published.append,
        ready=lambda: True,
        store=MemoryTradeStore(),
        prices=no_price,
    )
    client = TestClient(TestServer(app.web_app()))
    await client.start_server()
    try:
        yield client, published
    finally:
        await client.close()
        await app.close()
