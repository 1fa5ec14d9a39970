"""The seed's five execution metrics as OpenTelemetry instruments, from the execution stage's outcomes.

A dramatiq middleware records them from the TradeExecuted and TradeFailed a delivery publishes: the
handlers know nothing of it.

- `tradeflow.executions` ({execution}): one per trade decided, by `trade.status` (executed, failed) and
  `trade.method` (alpaca, simulation; `unrecorded` for a failure before either was chosen), a failure
  with its code as `error.type`. Total executions is its sum, the success rate its `executed` share, and
  Alpaca vs simulation its split by `trade.method`.
- `tradeflow.execution.duration` (ms): each executed trade's execution time, by `trade.method`; its mean
  is the average execution time.
- `tradeflow.execution.slippage` ({bp}, basis points): each executed trade's slippage, by `trade.method`
  and `trade.slippage.direction`. A histogram takes no negative value, so it records the size, and the
  direction says `adverse` (a fill worse than the reference price, or equal) or `favorable` (a price
  improvement, negative slippage). The average slippage is (sum adverse - sum favorable) / count.

An outcome counts once the delivery that published it ended well: a publish that failed is retried, and
counted then. A decided trade whose TradeRecorded comes again publishes its outcome again; a process counts
each trade once, but a duplicate delivered to another process counts there too. `tradeflow metrics` reads
the exact figures from the store; these are the live ones, for dashboards and alerts.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import dramatiq
from opentelemetry import metrics

from telemetry.metrics import METER_NAME
from telemetry.tracing import trade_id_of

OUTCOMES = frozenset({"TradeExecuted", "TradeFailed"})
UNRECORDED_METHOD = "unrecorded"  # as `tradeflow metrics` says it
# An order's fill is awaited up to TRADEFLOW_FILL_TIMEOUT_S (30 s by default): buckets up to a minute.
DURATION_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000)
SLIPPAGE_BUCKETS_BPS = (0, 0.5, 1, 2, 3, 5, 10, 25, 50, 100, 250)
_MAX_CHARS = 64


class ExecutionMetrics(dramatiq.Middleware):
    """Record each execution outcome a delivery published, once that delivery ended without an exception."""

    def __init__(self, provider: metrics.MeterProvider | None = None, *, remembered: int = 10_000) -> None:
        meter = (provider or metrics.get_meter_provider()).get_meter(METER_NAME)
        self.executions = meter.create_counter(
            "tradeflow.executions",
            unit="{execution}",
            description="Trades decided by the execution stage, by trade.status and trade.method",
        )
        self.duration = meter.create_histogram(
            "tradeflow.execution.duration",
            unit="ms",
            description="Execution time of each executed trade, by trade.method",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS_MS,
        )
        self.slippage = meter.create_histogram(
            "tradeflow.execution.slippage",
            unit="{bp}",
            description="Size of each executed trade's slippage, by method and direction",
            explicit_bucket_boundaries_advisory=SLIPPAGE_BUCKETS_BPS,
        )
        self._local = threading.local()  # a worker thread processes one message at a time
        self._counted: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered
        self._lock = threading.Lock()

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        self._local.outcomes = []

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int) -> None:
        outcomes: list[Mapping[str, Any]] | None = getattr(self._local, "outcomes", None)
        if outcomes is None:  # not sent by a delivery: the CLI, a dead letter's replay
            return
        args = message.args
        payload = args[0] if isinstance(args, tuple | list) and args else None
        if isinstance(payload, Mapping) and payload.get("type") in OUTCOMES:
            outcomes.append(payload)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        outcomes: list[Mapping[str, Any]] | None = getattr(self._local, "outcomes", None)
        self._local.outcomes = None
        if exception is None:
            for payload in outcomes or ():
                self.record(payload)

    def after_skip_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        self._local.outcomes = None

    def record(self, payload: Mapping[str, Any]) -> None:
        """Record one TradeExecuted or TradeFailed payload, unless this process recorded its trade already."""
        trade_id = trade_id_of(payload)
        if trade_id is not None and not self._first_time(trade_id):
            return
        if payload.get("type") == "TradeExecuted":
            execution = _mapping(payload.get("execution"))
            method = {"trade.method": _text(execution.get("execution_method")) or UNRECORDED_METHOD}
            self.executions.add(1, {"trade.status": "executed", **method})
            duration_ms = _number(execution.get("execution_time_ms"))
            if duration_ms is not None and duration_ms >= 0:
                self.duration.record(duration_ms, method)
            slippage_bps = _number(execution.get("slippage_bps"))
            if slippage_bps is not None:
                direction = "favorable" if slippage_bps < 0 else "adverse"
                self.slippage.record(abs(slippage_bps), {**method, "trade.slippage.direction": direction})
        elif payload.get("type") == "TradeFailed":
            error = _mapping(payload.get("error"))
            self.executions.add(
                1,
                {
                    "trade.status": "failed",
                    "trade.method": _text(error.get("execution_method")) or UNRECORDED_METHOD,
                    "error.type": _text(error.get("code")) or "FAILED",
                },
            )

    def _first_time(self, trade_id: str) -> bool:
        with self._lock:
            if trade_id in self._counted:
                return False
            self._counted[trade_id] = None
            if len(self._counted) > self._remembered:
                self._counted.popitem(last=False)
            return True


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value[:_MAX_CHARS] if isinstance(value, str) and value else None


def _number(value: object) -> float | None:
    # Decimals travel as strings: read them exactly, then hand the instrument a float.
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        number = float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    return number if math.isfinite(number) else None
