"""The seed's five execution metrics, recorded from the outcomes a delivery published, through a real
dramatiq worker: total executions, success rate, average execution time, average slippage, Alpaca vs
simulation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader, NumberDataPoint

from messages.codec import to_payload
from messages.events import AnyMessage, TradeExecuted, TradeFailed, TradeRecorded
from messages.trade import Execution, ExecutionError
from telemetry.execution_metrics import ExecutionMetrics
from telemetry.metrics import meter_provider_with
from tests.unit.fakes import FakeNotifier, make_deps, submit, trade
from tests.waiting import eventually
from workers.chain.actors import Runtime, declare_stage_actors
from workers.chain.dead_letters import DeadLetters
from workers.handlers.deps import Deps
from workers.settings import load_settings

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def executed(
    method: str, time_ms: str, slippage_bps: str, trade_id: uuid.UUID | None = None
) -> TradeExecuted:
    t = trade() if trade_id is None else trade(trade_id=trade_id)
    execution = Execution(
        execution_id=uuid.uuid4(),
        execution_method=method,  # type: ignore[arg-type]
        execution_price=Decimal("150.05"),
        filled_quantity=Decimal(10),
        execution_timestamp=NOW,
        execution_time_ms=Decimal(time_ms),
        reference_price=Decimal("150.00"),
        slippage_bps=Decimal(slippage_bps),
        market_impact_bps=Decimal("0.5"),
    )
    return TradeExecuted(trade=t, execution=execution)


def failed(code: str, method: str | None) -> TradeFailed:
    error = ExecutionError(code=code, message="refused", execution_method=method)  # type: ignore[arg-type]
    return TradeFailed(trade=trade(), error=error, failed_at=NOW)


class Chain:
    """A stub broker with the middleware and an execution actor that publishes what a test gives it."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.broker = StubBroker(middleware=[ExecutionMetrics(meter_provider_with(self.reader))])
        self.scripts: dict[str, tuple[list[AnyMessage], bool]] = {}

        @dramatiq.actor(broker=self.broker, queue_name="execution")
        def execution(script: str) -> None:
            messages, then_raise = self.scripts[script]
            for message in messages:
                self.send(message)
            if then_raise:
                raise RuntimeError("the stage failed after publishing")

        @dramatiq.actor(broker=self.broker, queue_name="notifications")
        def notifications(payload: Any) -> None:
            pass

        self.execution = execution

    def send(self, message: AnyMessage) -> None:
        envelope: dramatiq.Message[None] = dramatiq.Message(
            queue_name="notifications",
            actor_name="notifications",
            args=(to_payload(message),),
            kwargs={},
            options={},
        )
        self.broker.enqueue(envelope)

    def deliver(self, *messages: AnyMessage, then_raise: bool = False) -> None:
        script = str(uuid.uuid4())
        self.scripts[script] = (list(messages), then_raise)
        self.execution.send(script)

    def run(self) -> None:
        worker = dramatiq.Worker(self.broker, worker_timeout=50)
        worker.start()
        try:
            self.broker.join("execution", fail_fast=False)
            self.broker.join("notifications", fail_fast=False)
            worker.join()
        finally:
            worker.stop()

    def points(self, name: str) -> dict[frozenset[tuple[str, Any]], Any]:
        return points(self.reader, name)


def points(reader: InMemoryMetricReader, name: str) -> dict[frozenset[tuple[str, Any]], Any]:
    """The data points of one instrument, by their attributes."""
    data = reader.get_metrics_data()
    found: dict[frozenset[tuple[str, Any]], Any] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found[frozenset((point.attributes or {}).items())] = point
    return found


@pytest.fixture
def chain() -> Iterator[Chain]:
    chain = Chain()
    yield chain
    chain.broker.close()


def _count(points: dict[frozenset[tuple[str, Any]], Any], **attributes: str) -> int:
    wanted = set(attributes.items())
    return sum(p.value for key, p in points.items() if wanted <= key and isinstance(p, NumberDataPoint))


def test_the_five_figures_follow_from_what_the_execution_stage_decided(chain: Chain) -> None:
    chain.deliver(executed("alpaca", "1200", "2.5"))
    chain.deliver(executed("alpaca", "800", "-1.5"))  # price improvement: negative slippage
    chain.deliver(executed("simulation", "12", "1"))
    chain.deliver(failed("INSUFFICIENT_BUYING_POWER", "alpaca"))
    chain.deliver(failed("TRADING_HALTED", None))
    chain.run()

    executions = chain.points("tradeflow.executions")
    total = _count(executions)
    assert total == 5  # total executions
    assert _count(executions, **{"trade.status": "executed"}) / total == 0.6  # success rate
    assert _count(executions, **{"trade.method": "alpaca"}) == 3  # Alpaca vs simulation
    assert _count(executions, **{"trade.method": "simulation"}) == 1
    assert _count(executions, **{"trade.method": "unrecorded", "error.type": "TRADING_HALTED"}) == 1
    assert _count(executions, **{"trade.status": "failed", "error.type": "INSUFFICIENT_BUYING_POWER"}) == 1

    durations = chain.points("tradeflow.execution.duration")
    alpaca = durations[frozenset({("trade.method", "alpaca")})]
    assert isinstance(alpaca, HistogramDataPoint) and (alpaca.count, alpaca.sum) == (2, 2000)  # mean 1000 ms
    slippages = chain.points("tradeflow.execution.slippage")
    adverse = [p for k, p in slippages.items() if ("trade.slippage.direction", "adverse") in k]
    favorable = [p for k, p in slippages.items() if ("trade.slippage.direction", "favorable") in k]
    count = sum(p.count for p in (*adverse, *favorable))
    signed = sum(p.sum for p in adverse) - sum(p.sum for p in favorable)
    assert (count, signed) == (3, pytest.approx(2.0))  # average slippage 2/3 bp


def test_an_outcome_whose_delivery_then_failed_is_not_counted_until_it_is_published_again(
    chain: Chain,
) -> None:
    outcome = executed("alpaca", "900", "1")
    chain.deliver(outcome, then_raise=True)  # published, but the delivery failed: its retry publishes again
    chain.run()
    assert chain.points("tradeflow.executions") == {}
    chain.deliver(outcome)
    chain.run()
    assert _count(chain.points("tradeflow.executions")) == 1


def test_a_trade_published_twice_in_one_process_counts_once(chain: Chain) -> None:
    trade_id = uuid.uuid4()
    chain.deliver(executed("alpaca", "900", "1", trade_id))
    chain.deliver(executed("alpaca", "900", "1", trade_id))  # a duplicate TradeRecorded re-publishes it
    chain.run()
    assert _count(chain.points("tradeflow.executions")) == 1
    [duration] = chain.points("tradeflow.execution.duration").values()
    assert duration.count == 1


def test_an_outcome_sent_outside_a_delivery_is_not_an_execution(chain: Chain) -> None:
    chain.send(executed("alpaca", "900", "1"))  # a dead letter replayed from the CLI, say
    chain.run()
    assert chain.points("tradeflow.executions") == {}


def test_instruments_have_units() -> None:
    reader = InMemoryMetricReader()
    metrics = ExecutionMetrics(meter_provider_with(reader))
    metrics.record(to_payload(executed("simulation", "10", "0")))
    data = reader.get_metrics_data()
    assert data is not None
    units = {m.name: m.unit for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics}
    assert units == {
        "tradeflow.executions": "{execution}",
        "tradeflow.execution.duration": "ms",
        "tradeflow.execution.slippage": "{bp}",
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "TradeExecuted"},
        {"type": "TradeExecuted", "execution": {"execution_time_ms": "NaN", "slippage_bps": "x"}},
        {"type": "TradeFailed", "error": None},
    ],
)
def test_a_garbled_outcome_is_counted_without_figures(payload: dict[str, Any]) -> None:
    reader = InMemoryMetricReader()
    metrics = ExecutionMetrics(meter_provider_with(reader))
    metrics.record(payload)
    data = reader.get_metrics_data()
    assert data is not None
    names = {m.name for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics}
    assert names == {"tradeflow.executions"}


def test_the_real_execution_stage_counts_a_trade_once_however_often_it_is_delivered() -> None:
    reader, deps = InMemoryMetricReader(), make_deps()
    settings = load_settings({"TRADEFLOW_STORE": "memory", "TRADEFLOW_QUEUE_PREFIX": "metrics-"})

    async def open_deps(settings: Any, on_order_done: Any = None) -> Deps:
        return deps

    async def close_deps(deps: Deps) -> None:
        return None

    runtime = Runtime(settings, open_deps, close_deps)
    broker = StubBroker(middleware=[AsyncIO(), ExecutionMetrics(meter_provider_with(reader)), runtime])
    broker.add_middleware(DeadLetters(max_retries=0, min_backoff_ms=10, max_backoff_ms=20))
    actors = declare_stage_actors(broker, settings, runtime)
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        command = submit()
        actors["validation"].send(to_payload(command))
        notifier = deps.notifier
        assert isinstance(notifier, FakeNotifier)
        eventually(lambda: notifier.sent, timeout=10)
        again = TradeRecorded(trade=command.trade, recorded_at=NOW)  # the decided trade re-publishes
        actors["execution"].send(to_payload(again))
        broker.join(settings.queue("execution"), fail_fast=True)
        broker.join(settings.queue("positions"), fail_fast=True)
    finally:
        worker.stop()
        broker.close()
    executions = points(reader, "tradeflow.executions")
    assert {key: point.value for key, point in executions.items()} == {
        frozenset({("trade.status", "executed"), ("trade.method", "simulation")}): 1
    }
