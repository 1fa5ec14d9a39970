"""A 10,000-request unsigned flood costs a bounded number of journal writes, and the ingress keeps a bounded
set of work after its answers (issue 13, defect 9)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.web.async_client import AsyncWebClient

from messages.records import ActivityEvent
from tests.ingress_app import no_price
from workers.slack.ingress import Ingress
from workers.store.memory.store import MemoryTradeStore

FLOOD = 10_000
BODY = "command=%2Ftrade&text=buy+10000+AAPL&user_id=UTRADER&team_id=T1&channel_id=C1&trigger_id=X1"


class CountingStore(MemoryTradeStore):
    """Counts the journal writes, each one a DynamoDB PutItem on the real store."""

    def __init__(self) -> None:
        super().__init__()
        self.activity_writes = 0

    async def append_activity(self, event: ActivityEvent) -> Any:
        self.activity_writes += 1
        return await super().append_activity(event)


@pytest.fixture
async def flooded() -> AsyncIterator[tuple[TestClient, Ingress, CountingStore]]:
    store = CountingStore()
    ingress = Ingress(
        signing_secret="test-signing-secret",
        client=AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/", timeout=1),
        publish=lambda command: None,
        ready=lambda: True,
        store=store,
        prices=no_price,
    )
    client = TestClient(TestServer(ingress.web_app()))
    await client.start_server()
    yield client, ingress, store
    await client.close()
    await ingress.close()


async def test_an_unsigned_flood_costs_a_bounded_number_of_journal_writes(
    flooded: tuple[TestClient, Ingress, CountingStore],
) -> None:
    client, ingress, store = flooded
    forged = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    statuses: list[int] = []
    most_running = 0

    async def sender(n: int) -> None:
        nonlocal most_running
        for _ in range(n):
            response = await client.post("/slack/events", data=BODY, headers=forged)
            statuses.append(response.status)
            response.release()
            most_running = max(most_running, ingress.after_answer.running)

    started = time.time()
    await asyncio.gather(*(sender(FLOOD // 50) for _ in range(50)))
    minutes = int(time.time() // 60) - int(started // 60) + 1  # the clock's minutes the flood spanned
    await ingress.close()  # the minute's summary is written on stop

    assert statuses == [401] * FLOOD
    # one source, one reason: a first and a summary per minute (on a loaded machine the flood spans 2 or 3)
    assert store.activity_writes <= 2 * minutes
    assert most_running <= 2
    entries = await store.list_activity("access", *_today())
    assert sum(e.details.get("repeated", 1) for e in entries) == FLOOD


def _today() -> tuple[Any, Any]:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(minutes=2)
