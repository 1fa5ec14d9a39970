"""A Deferred delivery is an answer, not a failure: no ERROR span or log, and it comes back later."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from messages.codec import to_payload
from messages.events import AnyMessage, PositionUpdated
from telemetry.middleware import DEFERRED_ATTRIBUTE, TracingMiddleware
from telemetry.tracing import build_tracer_provider
from tests.unit.fakes import FakeNotifier, make_deps, submit
from tests.waiting import eventually
from workers.chain.actors import Runtime, declare_stage_actors
from workers.chain.dead_letters import DeadLetters
from workers.chain.routing import next_stage
from workers.chain.stage_handlers import STAGE_HANDLERS as HANDLERS
from workers.handlers.audit import NOTIFIED_KEY
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred
from workers.settings import load_settings

OTHER_HOLDERS_LEASE_MS = 300  # shorter than the handler's recheck (1 s): the redelivery finds it gone


async def _close(deps: Deps) -> None:
    return None


class Stack:
    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.deps = make_deps()
        settings = load_settings({"TRADEFLOW_STORE": "memory", "TRADEFLOW_QUEUE_PREFIX": "deferred-"})

        async def open_deps(settings: Any, on_order_done: Any = None) -> Deps:
            return self.deps

        provider = build_tracer_provider("tradeflow-test", exporter="none")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        runtime = Runtime(settings, open_deps, _close)
        # As build_rabbitmq orders them: tracing before the dead letters, the runtime after AsyncIO.
        self.broker = StubBroker(middleware=[AsyncIO(), TracingMiddleware(provider), runtime])
        self.broker.add_middleware(DeadLetters(max_retries=0, min_backoff_ms=10, max_backoff_ms=20))
        self.actors = declare_stage_actors(self.broker, settings, runtime)
        self.broker.emit_after("process_boot")
        self.worker = dramatiq.Worker(self.broker, worker_timeout=50)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def stack(exporter: InMemorySpanExporter) -> Iterator[Stack]:
    stack = Stack(exporter)
    stack.worker.start()
    yield stack
    stack.worker.stop()
    stack.broker.close()


def _notice(deps: Deps) -> PositionUpdated:
    async def chain() -> PositionUpdated:
        message: AnyMessage | None = submit()
        while message is not None and next_stage(message) != "notifications":
            message = await HANDLERS[next_stage(message)](message, deps)
        assert isinstance(message, PositionUpdated)
        lease = f"{NOTIFIED_KEY}#{message.trade.trade_id}"
        now_ms = int(deps.clock().timestamp() * 1000)
        assert await deps.store.claim_lease(lease, now_ms=now_ms, lease_ms=OTHER_HOLDERS_LEASE_MS)
        return message

    return asyncio.run(chain())


def _spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    spans = [span for span in exporter.get_finished_spans() if span.name == "deferred-notifications process"]
    return sorted(spans, key=lambda span: span.start_time or 0)


def test_the_stage_actors_declare_deferred_as_thrown_on_purpose(stack: Stack) -> None:
    for actor in stack.actors.values():
        assert actor.options["throws"] == (Deferred,)


def test_a_deferred_delivery_is_not_an_error_and_comes_back_to_send_once(
    stack: Stack, exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    notice = _notice(stack.deps)  # another delivery holds the notice's lease, briefly
    caplog.set_level(logging.INFO)

    stack.actors["notifications"].send(to_payload(notice))
    notifier = stack.deps.notifier
    assert isinstance(notifier, FakeNotifier)
    eventually(lambda: notifier.sent, timeout=10)
    spans = eventually(lambda: (found := _spans(exporter)) and len(found) == 2 and found, timeout=10)

    deferred, sent = spans
    assert deferred.status.status_code is StatusCode.UNSET
    assert deferred.attributes is not None and deferred.attributes[DEFERRED_ATTRIBUTE] is True
    assert "error.type" not in deferred.attributes
    assert [event.name for event in deferred.events] == []  # no exception recorded
    assert sent.status.status_code is StatusCode.OK
    assert sent.attributes is not None and DEFERRED_ATTRIBUTE not in sent.attributes
    assert notifier.sent == [notice]
    assert not stack.broker.dead_letters  # deferred, not dead-lettered
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
