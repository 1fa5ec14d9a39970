"""Execution metrics over a window of trades, on the in-memory store with hand-built records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from messages.records import TradeRecord, pending_record
from tests.unit.fakes import NOW, trade
from workers.console.checks.metrics import execution_metrics, parse_since, render_metrics
from workers.store.memory.store import MemoryTradeStore

HOUR_AGO = NOW - timedelta(hours=1)


def record(status: str, *, at: datetime = NOW - timedelta(minutes=5), **fields: Any) -> TradeRecord:
    pending = pending_record(trade(submitted_at=at), recorded_at=at, expires_at=2_000_000_000)
    return msgspec.structs.replace(pending, status=status, **fields)


def executed(method: str, time_ms: str, slippage_bps: str, **fields: Any) -> TradeRecord:
    return record(
        "executed",
        execution_id=uuid.uuid4(),
        execution_method=method,
        execution_price=Decimal("150.05"),
        filled_quantity=Decimal(10),
        execution_timestamp=NOW,
        execution_time_ms=Decimal(time_ms),
        reference_price=Decimal("150.00"),
        slippage_bps=Decimal(slippage_bps),
        market_impact_bps=Decimal(0),
        **fields,
    )


def failed(code: str, method: str | None = None, time_ms: str | None = None) -> TradeRecord:
    return record(
        "failed",
        error_code=code,
        error_message="it went wrong",
        execution_method=method,
        execution_time_ms=None if time_ms is None else Decimal(time_ms),
    )


async def store_with(*records: TradeRecord) -> MemoryTradeStore:
    store = MemoryTradeStore()
    for each in records:
        assert await store.put_new_trade(each, []) is None
    return store


async def test_the_seeds_metrics_count_executed_and_failed_as_executions() -> None:
    store = await store_with(
        executed("alpaca", "10", "1.5"),
        executed("alpaca", "20", "-0.5"),
        executed("simulation", "30", "2"),
        failed("BROKER_DOWN", "alpaca", "1000"),
        failed("BROKER_DOWN"),
        failed("INSUFFICIENT_FUNDS", "simulation", "40"),
        record("rejected", error_code="INVALID_SYMBOL"),
        record("working"),
        record("unknown", error_code="BROKER_TIMEOUT"),
        executed("alpaca", "5", "9", at=HOUR_AGO - timedelta(seconds=1)),  # before the window
    )
    doc = await execution_metrics(store, HOUR_AGO, NOW)

    assert (doc["since"], doc["until"]) == (HOUR_AGO, NOW)
    assert (doc["trades"], doc["truncated"]) == (9, False)
    assert (doc["total_executions"], doc["executed"], doc["failed"]) == (6, 3, 3)
    assert (doc["rejected"], doc["open"]) == (1, 2)
    assert doc["success_rate_pct"] == Decimal("50.00")
    # Times of every execution that carries one: 10, 20, 30, 40, 1000.
    assert doc["average_execution_time_ms"] == Decimal("220.0")
    assert doc["p50_execution_time_ms"] == Decimal("30.0")
    assert doc["p95_execution_time_ms"] == Decimal("1000.0")
    assert doc["average_slippage_bps"] == Decimal("1.00")  # executed only: (1.5 - 0.5 + 2) / 3
    assert doc["execution_methods"] == {
        "alpaca": {"count": 3, "pct": Decimal("50.00")},
        "simulation": {"count": 2, "pct": Decimal("33.33")},
        "unrecorded": {"count": 1, "pct": Decimal("16.67")},
    }
    assert doc["by_status"] == {"executed": 3, "failed": 3, "rejected": 1, "unknown": 1, "working": 1}
    # Failures' codes only: a rejection or an open trade's code is not an execution error.
    assert doc["by_error_code"] == {"BROKER_DOWN": 2, "INSUFFICIENT_FUNDS": 1}


async def test_amounts_stay_exact_decimals_and_round_half_up_for_display() -> None:
    store = await store_with(
        executed("simulation", "0.05", "0.005"),
        executed("simulation", "0.1", "0.01"),
        failed("BROKER_DOWN", "simulation", "0.1"),
    )
    doc = await execution_metrics(store, HOUR_AGO, NOW)
    # Averages of 0.0833... ms and 0.0075 bps: rounded half up, to 0.1 ms and 0.01 bps.
    assert doc["average_execution_time_ms"] == Decimal("0.1")
    assert doc["average_slippage_bps"] == Decimal("0.01")
    assert doc["success_rate_pct"] == Decimal("66.67")
    assert all(isinstance(doc[name], Decimal) for name in ("p50_execution_time_ms", "p95_execution_time_ms"))


async def test_an_empty_window_has_counts_of_zero_and_no_averages() -> None:
    doc = await execution_metrics(MemoryTradeStore(), HOUR_AGO, NOW)
    assert (doc["trades"], doc["total_executions"], doc["rejected"]) == (0, 0, 0)
    for name in (
        "success_rate_pct",
        "average_execution_time_ms",
        "p95_execution_time_ms",
        "average_slippage_bps",
    ):
        assert doc[name] is None
    assert doc["execution_methods"] == {
        "alpaca": {"count": 0, "pct": None},
        "simulation": {"count": 0, "pct": None},
    }
    assert (doc["by_status"], doc["by_error_code"]) == ({}, {})
    assert "Success rate      —" in render_metrics(doc)


async def test_only_rejections_make_no_executions() -> None:
    doc = await execution_metrics(await store_with(record("rejected"), record("rejected")), HOUR_AGO, NOW)
    assert (doc["total_executions"], doc["rejected"], doc["success_rate_pct"]) == (0, 2, None)


async def test_a_window_cut_by_the_limit_says_so() -> None:
    store = await store_with(*(executed("alpaca", "10", "0") for _ in range(3)))
    doc = await execution_metrics(store, HOUR_AGO, NOW, limit=2)
    assert (doc["trades"], doc["truncated"]) == (2, True)
    assert "only the first 2 trades" in render_metrics(doc)


async def test_the_rendering_shows_each_metric() -> None:
    store = await store_with(executed("alpaca", "12.5", "0.15"), failed("BROKER_DOWN", "simulation", "30"))
    text = render_metrics(await execution_metrics(store, HOUR_AGO, NOW))
    assert text.splitlines()[0] == (
        "Execution metrics, trades submitted 2026-11-25 13:30:00Z to 2026-11-25 14:30:00Z"
    )
    for shown in (
        "executed 1, failed 1",
        "50.00%",
        "avg 21.3 ms · p50 12.5 ms · p95 30.0 ms",
        "0.15 bps",
        "alpaca 50.00% (1) · simulation 50.00% (1)",
        "BROKER_DOWN 1",
    ):
        assert shown in text


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("1h", timedelta(hours=1)),
        ("30m", timedelta(minutes=30)),
        ("2d", timedelta(days=2)),
        ("45s", timedelta(seconds=45)),
        (" 1W ", timedelta(weeks=1)),
    ],
)
def test_a_duration_reaches_back_from_now(text: str, back: timedelta) -> None:
    assert parse_since(text, now=NOW) == NOW - back


def test_an_iso_datetime_is_read_in_its_offset_or_as_utc() -> None:
    assert parse_since("2026-11-25T13:00:00Z", now=NOW) == datetime(2026, 11, 25, 13, tzinfo=UTC)
    assert parse_since("2026-11-25T08:00:00-05:00", now=NOW) == datetime(2026, 11, 25, 13, tzinfo=UTC)
    assert parse_since("2026-11-25T13:00", now=NOW) == datetime(2026, 11, 25, 13, tzinfo=UTC)
    assert parse_since("2026-11-24", now=NOW) == datetime(2026, 11, 24, tzinfo=UTC)
    assert parse_since("1h").tzinfo is not None
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))
    assert parse_since(tokyo.isoformat(), now=NOW) == NOW


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "duration such as 30m"),
        ("1 hour", "duration such as 30m"),
        ("-1h", "duration such as 30m"),
        ("1.5h", "duration such as 30m"),
        ("0m", "above zero"),
        ("999999999d", "before year 1"),
        ("2026-11-25T15:00:00Z", "in the future"),
    ],
)
def test_anything_else_is_refused_with_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_since(text, now=NOW)
