"""Stage metrics: messages and durations per stage (a dramatiq middleware), queue and dead-letter depths.

`OTEL_METRICS_EXPORTER=otlp` exports them over OTLP/HTTP (the standard `OTEL_EXPORTER_OTLP_*` settings)
every `OTEL_METRIC_EXPORT_INTERVAL` ms; `none` (the default) keeps them in process.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import dramatiq
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

METER_NAME = "tradeflow"


def configure_metrics(service_name: str, exporter: str | None = None) -> MeterProvider | None:
    """Install the global MeterProvider with the chosen exporter; None when metrics are off."""
    choice = (exporter or os.environ.get("OTEL_METRICS_EXPORTER", "none")).strip().lower()
    if choice == "none":
        return None
    if choice != "otlp":
        raise ValueError(f"OTEL_METRICS_EXPORTER must be otlp or none, not {choice!r}")
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    provider = MeterProvider(
        metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())],
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)}),
    )
    metrics.set_meter_provider(provider)
    return provider


def meter_provider_with(reader: MetricReader) -> MeterProvider:
    """A provider of its own around `reader` (tests use an InMemoryMetricReader)."""
    return MeterProvider(metric_readers=[reader])


class StageMetrics(dramatiq.Middleware):
    """Counts each delivery per stage and outcome, and times it."""

    def __init__(self, provider: metrics.MeterProvider | None = None) -> None:
        meter = (provider or metrics.get_meter_provider()).get_meter(METER_NAME)
        self.messages = meter.create_counter(
            "tradeflow.stage.messages", unit="{message}", description="Deliveries per stage, by outcome"
        )
        self.duration = meter.create_histogram(
            "tradeflow.stage.duration", unit="ms", description="Time a stage spent on one delivery"
        )
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        stage = message.queue_name
        outcome = "ok" if exception is None else type(exception).__name__
        self.messages.add(1, {"stage": stage, "outcome": outcome})
        if started is not None:
            self.duration.record((time.perf_counter() - started) * 1000, {"stage": stage, "outcome": outcome})

    after_skip_message = after_process_message


def observe_queues(
    depths: Callable[[], Iterable[tuple[str, int, int]]], provider: metrics.MeterProvider | None = None
) -> None:
    """Gauges of each queue's ready and dead-letter depth, read by `depths()` at each export."""
    meter = (provider or metrics.get_meter_provider()).get_meter(METER_NAME)

    def ready(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(r, {"queue": q}) for q, r, _ in depths()]

    def dead(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(d, {"queue": q}) for q, _, d in depths()]

    meter.create_observable_gauge("tradeflow.queue.depth", [ready], unit="{message}")
    meter.create_observable_gauge("tradeflow.queue.dead_letters", [dead], unit="{message}")
