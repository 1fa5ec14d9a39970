"""Stage metrics count deliveries by outcome and time them, through a real dramatiq worker."""

from __future__ import annotations

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from telemetry.metrics import StageMetrics, configure_metrics, meter_provider_with, observe_queues


def _points(reader: InMemoryMetricReader) -> dict[str, list[tuple[dict[str, object], object]]]:
    found: dict[str, list[tuple[dict[str, object], object]]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    value = getattr(point, "value", None) if hasattr(point, "value") else point.count
                    found.setdefault(metric.name, []).append((dict(point.attributes or {}), value))
    return found


def test_deliveries_are_counted_by_stage_and_outcome_and_timed() -> None:
    reader = InMemoryMetricReader()
    provider = meter_provider_with(reader)
    broker = StubBroker(middleware=[StageMetrics(provider)])

    @dramatiq.actor(broker=broker, queue_name="execution")
    def work(fail: bool) -> None:
        if fail:
            raise RuntimeError("boom")

    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        for fail in (False, False, True):
            work.send(fail)
        broker.join("execution", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
    points = _points(reader)
    counts = {p[0]["outcome"]: p[1] for p in points["tradeflow.stage.messages"]}
    assert counts == {"ok": 2, "RuntimeError": 1}
    assert sum(count for _, count in points["tradeflow.stage.duration"]) == 3  # type: ignore[misc]


def test_queue_depth_gauges_read_at_collection() -> None:
    reader = InMemoryMetricReader()
    provider = meter_provider_with(reader)
    observe_queues(lambda: [("validation", 4, 1), ("execution", 0, 2)], provider)
    points = _points(reader)
    assert {p[0]["queue"]: p[1] for p in points["tradeflow.queue.depth"]} == {"validation": 4, "execution": 0}
    assert {p[0]["queue"]: p[1] for p in points["tradeflow.queue.dead_letters"]} == {
        "validation": 1,
        "execution": 2,
    }


def test_an_unknown_metrics_exporter_is_refused_with_its_variable() -> None:
    with pytest.raises(ValueError, match="OTEL_METRICS_EXPORTER"):
        configure_metrics("tradeflow-test", "prometheus-ish")
    assert configure_metrics("tradeflow-test", "none") is None
