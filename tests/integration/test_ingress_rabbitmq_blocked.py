"""A RabbitMQ resource alarm (connection.blocked) never hangs a submission (issue 13, defect 10).

RabbitMQ is the machine's, reached through a proxy that plays the alarm at the AMQP level for this test's
connections only (amqp_block_proxy.py). The trader gets an answer inside Slack's 3 seconds either way, and a
publish that completes after that answer is never doubled by the trader pressing Execute Trade again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackDriver, SlackEmulator
from messages.events import SubmitTrade
from tests.fixtures_rabbitmq import QueueReader
from tests.integration.amqp_block_proxy import AmqpBlockProxy
from tests.integration.test_ingress_session_audit import modal_opened_on
from tests.unit.fakes import submit
from tests.waiting import eventually
from workers.chain.publisher import Publisher
from workers.settings import Settings, load_settings
from workers.slack.ingress import Ingress
from workers.slack.submissions import NOT_CONFIRMED
from workers.store.memory.store import MemoryTradeStore

SLACK_ACK_S = 3.0


@pytest.fixture
def proxy(rabbitmq_url: str) -> Iterator[AmqpBlockProxy]:
    target = urlsplit(rabbitmq_url)
    started = AmqpBlockProxy((target.hostname or "127.0.0.1", target.port or 5672)).start()
    yield started
    started.unblock()
    started.stop()


def settings_through(proxy: AmqpBlockProxy, rabbitmq_url: str, queue_prefix: str, **env: str) -> Settings:
    return load_settings(
        {"RABBITMQ_URL": proxy.url(rabbitmq_url), "TRADEFLOW_QUEUE_PREFIX": queue_prefix, **env}
    )


class CountingPublisher:
    """The real Publisher, counting the publishes the ingress asked for."""

    def __init__(self, settings: Settings) -> None:
        self.publisher = Publisher(settings)
        self.calls: list[SubmitTrade] = []
        self._lock = threading.Lock()

    def submit(self, command: SubmitTrade) -> None:
        with self._lock:
            self.calls.append(command)
        self.publisher.submit(command)


@dataclass
class Served:
    ingress: Ingress
    publisher: CountingPublisher
    driver: SlackDriver


@pytest.fixture
async def served(
    slack_emulator: SlackEmulator, proxy: AmqpBlockProxy, rabbitmq_url: str, queue_prefix: str
) -> AsyncIterator[Served]:
    publisher = CountingPublisher(settings_through(proxy, rabbitmq_url, queue_prefix))
    store = MemoryTradeStore()

    async def no_price(symbol: str) -> Decimal | None:
        return None

    ingress = Ingress(
        signing_secret=slack_emulator.signing_secret,
        client=AsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url),
        publish=publisher.submit,
        ready=lambda: True,
        store=store,
        prices=no_price,
    )
    server = TestServer(ingress.web_app())
    await server.start_server()
    url = str(server.make_url("/slack/events"))
    driver = SlackDriver(url, slack_emulator.signing_secret, slack_emulator, user_id="UTRADER")
    yield Served(ingress, publisher, driver)
    proxy.unblock()
    await server.close()
    await ingress.close()
    await asyncio.to_thread(publisher.publisher.close)


def queued(rabbitmq_url: str, queue: str) -> int:
    reader = QueueReader(rabbitmq_url)
    try:
        return reader.count(queue)
    finally:
        reader.close()


async def test_a_blocked_rabbitmq_gets_the_trader_a_clear_answer_inside_three_seconds(
    served: Served, proxy: AmqpBlockProxy, rabbitmq_url: str, queue_prefix: str
) -> None:
    proxy.block()
    command = await served.driver.slash_command("buy 10 AAPL")
    view = await modal_opened_on(served.driver, command.trigger_id)

    answer = await served.driver.submit_view(view)  # AckTimeout (3 s) if the ingress waited on

    assert answer.elapsed_s < SLACK_ACK_S
    assert answer.body["response_action"] == "errors"
    assert NOT_CONFIRMED in answer.body["errors"].values()
    assert proxy.blocked_links >= 1  # RabbitMQ's side did block the publish


async def test_a_publish_that_completes_later_is_never_doubled_by_the_resubmission(
    served: Served, proxy: AmqpBlockProxy, rabbitmq_url: str, queue_prefix: str
) -> None:
    proxy.block()
    command = await served.driver.slash_command("buy 10 AAPL")
    view = await modal_opened_on(served.driver, command.trigger_id)
    first = await served.driver.submit_view(view)
    again = await served.driver.submit_view(view)  # the trader presses Execute Trade again, still blocked
    assert [first.body["response_action"], again.body["response_action"]] == ["errors", "errors"]
    assert len(served.publisher.calls) == 1  # the second press waited on the first publish

    proxy.unblock()  # the alarm clears: the held publish goes through
    validation = f"{queue_prefix}validation"
    await asyncio.to_thread(eventually, lambda: queued(rabbitmq_url, validation) == 1, 15)
    last = await served.driver.submit_view(view)

    assert last.body["response_action"] == "update"  # "Submitting…": the trade was taken after all
    assert len(served.publisher.calls) == 1
    await asyncio.sleep(0.5)
    assert queued(rabbitmq_url, validation) == 1
    assert {c.trade_id for c in served.publisher.calls} == {str(view_trade_id(view))}


def view_trade_id(view: dict[str, object]) -> str:
    import json

    return str(json.loads(str(view["private_metadata"]))["trade_id"])


def test_a_publish_blocked_past_the_timeout_fails_instead_of_hanging(
    proxy: AmqpBlockProxy, rabbitmq_url: str, queue_prefix: str
) -> None:
    settings = settings_through(proxy, rabbitmq_url, queue_prefix, TRADEFLOW_RABBITMQ_BLOCKED_TIMEOUT_S="0.5")
    publisher = Publisher(settings)
    failures: list[BaseException] = []

    def blocked_publish() -> None:
        try:
            publisher.submit(submit())
        except Exception as exc:
            failures.append(exc)

    try:
        publisher.submit(submit())  # connects and declares, unblocked
        proxy.block()
        started = time.monotonic()
        attempt = threading.Thread(target=blocked_publish, daemon=True)
        attempt.start()
        attempt.join(timeout=20)  # dramatiq's six tries, each blocked 0.5 s at most
        assert not attempt.is_alive(), "the publish still waits on the blocked connection"
        assert time.monotonic() - started < 20
        assert failures and "blocked" in repr(failures[0]).lower()
    finally:
        proxy.unblock()
        publisher.close()
