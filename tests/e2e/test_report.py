"""The regulatory export on the real stack: 200 trades in a window, one row each, reconciling with metrics."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from messages.events import SubmitTrade
from tests.e2e.stack import Stack, all_told
from tests.waiting import eventually
from workers.chain.publisher import Publisher
from workers.console.trades.submit import build_command

pytestmark = pytest.mark.e2e

SYMBOLS = ("AAPL", "MSFT", "NVDA", "SPY", "JPM")


def _commands() -> list[SubmitTrade]:
    """200 trades: 170 that execute, 15 refused by validation, 15 that fail at execution."""
    commands = [
        build_command(user_id="U123", side="buy", quantity=str(1 + i % 7), symbol=SYMBOLS[i % len(SYMBOLS)])
        for i in range(170)
    ]
    commands += [build_command(user_id="U999", side="buy", quantity="1", symbol="AAPL") for _ in range(8)]
    commands += [build_command(user_id="U123", side="buy", quantity="20000", symbol="AAPL") for _ in range(7)]
    commands += [  # a limit far below the market cannot fill in the simulation: LIMIT_NOT_MARKETABLE
        build_command(
            user_id="U456", side="buy", quantity="2", symbol="MSFT", order_type="limit", limit_price="1.00"
        )
        for _ in range(15)
    ]
    return commands


def _publish(stack: Stack, commands: list[SubmitTrade]) -> None:
    publisher = Publisher(stack.settings)
    try:
        for command in commands:
            publisher.submit(command)
    finally:
        publisher.close()


def _average(values: list[Decimal]) -> str | None:
    if not values:
        return None
    mean = sum(values, Decimal(0)) / len(values)
    return str(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_a_csv_report_of_200_trades_has_200_rows_that_reconcile_with_metrics(
    stack: Stack, tmp_path: Path
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    commands = _commands()
    _publish(stack, commands)
    trade_ids = [command.trade.trade_id for command in commands]
    eventually(all_told(stack, trade_ids), timeout=240, interval=1.0)
    until = datetime.now(UTC) + timedelta(seconds=1)

    path = tmp_path / "report.csv"
    done = stack.cli("report", "--from", since.isoformat(), "--to", until.isoformat(), "--output", str(path))
    assert done.returncode == 0, done.stderr
    assert "200 trades" in done.stderr
    assert not path.with_name("report.csv.partial").exists()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 200
    assert sorted(row["trade_id"] for row in rows) == sorted(str(trade_id) for trade_id in trade_ids)
    assert [row["submitted_at"] for row in rows] == sorted(row["submitted_at"] for row in rows)

    metrics = stack.cli("metrics", "--since", since.isoformat(), "--json")
    assert metrics.returncode == 0, metrics.stderr
    doc = json.loads(metrics.stdout)
    statuses = Counter(row["status"] for row in rows)
    assert statuses == {"executed": 170, "rejected": 15, "failed": 15}
    executions = [row for row in rows if row["status"] in ("executed", "failed")]
    assert doc["trades"] == len(rows)
    assert doc["by_status"] == dict(statuses)
    assert doc["total_executions"] == len(executions)
    assert (doc["executed"], doc["failed"], doc["rejected"]) == (
        statuses["executed"],
        statuses["failed"],
        statuses["rejected"],
    )
    success = Decimal(statuses["executed"] * 100) / len(executions)
    assert doc["success_rate_pct"] == str(success.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    methods = Counter(row["execution_method"] or "unrecorded" for row in executions)
    assert {name: m["count"] for name, m in doc["execution_methods"].items() if m["count"]} == dict(methods)
    slippages = [Decimal(row["slippage_bps"]) for row in rows if row["status"] == "executed"]
    assert doc["average_slippage_bps"] == _average(slippages)
    errors = Counter(row["error_code"] for row in rows if row["status"] == "failed")
    assert doc["by_error_code"] == dict(errors) == {"LIMIT_NOT_MARKETABLE": 15}

    for row in rows:
        assert row["notified_at"], row
        if row["status"] == "executed":
            assert row["executed_at"] and row["recorded_at"] and row["position_updated_at"]
            assert int(row["fill_count"]) >= 1 and json.loads(row["fills"])
        elif row["status"] == "failed":
            assert row["failed_at"] and row["recorded_at"] and not row["position_updated_at"]
        else:
            assert row["rejected_at"] and not row["recorded_at"]
            assert json.loads(row["rejection_reasons"])
        events = [event["event_type"] for event in json.loads(row["audit_events"])]
        assert len(events) == int(row["audit_event_count"]) and events[0] == "trade_submitted"
        assert events[-1] == "trade_notified"


def test_the_jsonl_report_streams_to_stdout_one_object_per_trade(stack: Stack) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    commands = _commands()[160:175]  # executed, then refused
    _publish(stack, commands)
    eventually(all_told(stack, [c.trade.trade_id for c in commands]), timeout=120, interval=0.5)

    done = stack.cli("report", "--from", since.isoformat(), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["trade_id"] for line in lines] == [str(c.trade.trade_id) for c in commands]
    assert Counter(line["status"] for line in lines) == {"executed": 10, "rejected": 5}
    executed = [line for line in lines if line["status"] == "executed"]
    assert all(line["execution_method"] == "simulation" and line["fills"] for line in executed)
    assert all(isinstance(line["audit_events"], list) for line in lines)
    assert stack.cli("report", "--from", "yesterday").returncode == 2
