"""The worker's dependencies: a store that is down when the worker boots must not leave it broken for good."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO

from messages.codec import to_payload
from tests.unit.fakes import FakeNotifier, make_deps, submit
from tests.waiting import eventually
from workers.chain.actors import Runtime, declare_stage_actors
from workers.handlers.deps import Deps
from workers.settings import load_settings
from workers.store.port import StoreUnavailable


class FlakyOpen:
    """Opens the dependencies, except the first `failures` times (DynamoDB Local restarting, say)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.deps = make_deps()

    async def __call__(self, settings: Any, on_order_done: Any = None) -> Deps:
        self.calls += 1
        if self.calls <= self.failures:
            raise StoreUnavailable("DynamoDB CreateTable: EndpointConnectionError")
        return self.deps


async def _close(deps: Deps) -> None:
    return None


def test_a_worker_whose_store_was_down_at_boot_opens_it_on_the_next_message() -> None:
    settings = load_settings({"TRADEFLOW_STORE": "memory", "TRADEFLOW_QUEUE_PREFIX": "rt-"})
    opener = FlakyOpen(failures=2)  # at boot, then at the first delivery; the retry gets through
    runtime = Runtime(settings, opener, _close)
    broker = StubBroker(middleware=[AsyncIO(), runtime])
    broker.add_middleware(dramatiq.middleware.Retries(min_backoff=10, max_backoff=20, max_retries=3))
    actors = declare_stage_actors(broker, settings, runtime)
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        assert runtime.deps is None  # the boot failed, and dramatiq carried on
        command = submit()
        actors["validation"].send(to_payload(command))
        # the first delivery fails to open them and is retried after a backoff; then the chain runs
        notifier = opener.deps.notifier
        assert isinstance(notifier, FakeNotifier)
        told = eventually(lambda: notifier.sent, timeout=10)
        assert runtime.deps is opener.deps and opener.calls == 3
    finally:
        worker.stop()
    assert [type(t).__name__ for t in told] == ["PositionUpdated"]
    assert told[0].trade.trade_id == command.trade.trade_id
