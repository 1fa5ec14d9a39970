"""Thin actors: decode the payload, run the stage's handler on the event loop, publish what it returns."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from opentelemetry import context as otel_context

from messages.codec import from_payload
from messages.events import AnyMessage
from telemetry.middleware import run_with_context
from workers.chain.reconcile import consumes, on_order_done, reconcile_open_trades, seed_sweep
from workers.chain.routing import SERVICES, STAGES, Stage, outputs
from workers.chain.sending import publish
from workers.chain.stage_handlers import STAGE_HANDLERS
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred, InvariantViolation
from workers.settings import Settings

logger = logging.getLogger("tradeflow.actors")


class Runtime(dramatiq.Middleware):
    """Opens the handlers' dependencies once per worker process, on dramatiq's event loop thread."""

    def __init__(self, settings: Settings, open_deps: Callable[..., Any], close_deps: Callable[[Deps], Any]):
        self.settings = settings
        self._open_deps = open_deps
        self._close_deps = close_deps
        self.deps: Deps | None = None
        self._opening = threading.Lock()
        self._broker: dramatiq.Broker | None = None
        self._worker: dramatiq.Worker | None = None

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Before the consumers start: no message should arrive ahead of its dependencies. dramatiq logs and
        # swallows an exception raised here, so a store that is down at boot must not leave the process
        # without dependencies for good: the first message opens them then (and retries until it can).
        self._broker, self._worker = broker, worker
        try:
            self.open()
        except Exception:
            logger.exception("Could not open the worker's dependencies at boot; the next message retries")

    def open(self) -> Deps:
        """The dependencies, opened once per process (then the start-up reconciliation and sweep seed)."""
        with self._opening:
            if self.deps is not None:
                return self.deps
            broker, worker, run = self._broker, self._worker, _loop().run_coroutine
            if broker is None or worker is None:
                raise RuntimeError("the worker has not booted: its dependencies cannot be opened yet")

            def send(message: AnyMessage) -> None:
                publish(broker, self.settings.queue, message)

            def order_done(client_order_id: str) -> None:
                if self.deps is not None:
                    on_order_done(self.deps.store, run, send)(client_order_id)

            deps = run(self._open_deps(self.settings, order_done))
            self.deps = deps
        if consumes(worker, self.settings.queue("execution")):
            reconcile_open_trades(deps.store, run, send)
        if consumes(worker, self.settings.queue("sweeper")):
            seed_sweep(self.settings, send)
        return deps

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.deps is not None:
            _loop().run_coroutine(self._close_deps(self.deps))
            self.deps = None


def _loop() -> Any:
    loop = get_event_loop_thread()
    if loop is None:
        raise RuntimeError("dramatiq's AsyncIO middleware must come before the Runtime middleware")
    return loop


def declare_stage_actors(
    rabbitmq: dramatiq.Broker, settings: Settings, runtime: Runtime
) -> dict[str, dramatiq.Actor]:
    return {stage.name: _stage_actor(rabbitmq, settings, runtime, stage) for stage in (*STAGES, *SERVICES)}


def _stage_actor(
    rabbitmq: dramatiq.Broker, settings: Settings, runtime: Runtime, stage: Stage
) -> dramatiq.Actor:
    handler = STAGE_HANDLERS[stage.name]

    def process(payload: Any) -> None:
        if settings.debug_mode:
            logger.debug("%s received a message", stage.name, extra={"payload": payload})
        message = from_payload(payload)
        if not isinstance(message, stage.consumes):
            raise InvariantViolation(f"{type(message).__name__} does not belong on the {stage.name} queue")
        deps = runtime.deps or runtime.open()
        coroutine = run_with_context(otel_context.get_current(), handler(message, deps))
        for outcome in outputs(_loop().run_coroutine(coroutine)):
            publish(rabbitmq, settings.queue, outcome)

    process.__name__ = stage.name
    # Deferred is an answer ("come back later"), not a failure: no ERROR log with a traceback for it.
    decorate = dramatiq.actor(
        actor_name=stage.name, queue_name=settings.queue(stage.name), broker=rabbitmq, throws=(Deferred,)
    )
    return decorate(process)
