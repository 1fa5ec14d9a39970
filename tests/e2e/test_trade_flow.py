"""A trade through the real stack: CLI → RabbitMQ → five stages in a worker process → DynamoDB Local."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e


def test_submit_wait_executes_records_and_notifies(stack: Stack) -> None:
    done = stack.cli("submit", "--user", "U123", "buy", "10", "AAPL", "--wait", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "executed"
    assert outcome["execution_method"] == "simulation"
    assert float(outcome["execution_price"]) > 0
    assert "slippage_bps" in outcome and outcome["notified"] is True
    trade_id = outcome["trade_id"]

    shown = stack.cli("trade", "show", trade_id, "--json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["trade"]["status"] == "executed"
    assert [a["event_type"] for a in doc["audit"]] == [
        "trade_submitted",
        "trade_recorded",
        "trade_executed",
        "position_updated",
        "trade_notified",
    ]
    assert all(a["expires_at"] > 0 for a in doc["audit"])

    positions = json.loads(stack.cli("positions", "U123", "--json").stdout)
    assert [(p["symbol"], p["quantity"]) for p in positions["positions"]] == [("AAPL", "10")]
    assert "✅ Trade Executed Successfully" in stack.outbox.read_text()


def test_a_rejected_trade_exits_1_with_its_reason(stack: Stack) -> None:
    done = stack.cli("submit", "--user", "U999", "buy", "1", "MSFT", "--wait", "--json")
    assert done.returncode == 1
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "rejected" and outcome["error_code"] == "NOT_A_TRADER"
    assert outcome["notified"] is True


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["buy", "0", "AAPL"], "quantity"),
        (["hold", "10", "AAPL"], "side"),
        (["buy", "10", "aa$"], "symbol"),
        (["buy", "10", "AAPL", "--type", "limit"], "limit_price"),
    ],
)
def test_bad_input_names_the_field_and_publishes_nothing(
    idle_stack: Stack, args: list[str], field: str
) -> None:
    done = idle_stack.cli("submit", "--user", "U123", *args)
    assert done.returncode == 2
    assert field in done.stderr
    assert "Traceback" not in done.stderr
    assert (
        idle_stack.queues.count(idle_stack.queue("validation")) == 0
    )  # no worker runs: it would still be there


def test_a_good_submit_without_workers_waits_in_the_queue(idle_stack: Stack) -> None:
    done = idle_stack.cli("submit", "--user", "U123", "buy", "1", "AAPL")
    assert done.returncode == 0, done.stderr
    assert idle_stack.queues.count(idle_stack.queue("validation")) == 1  # durable, confirmed, waiting


def test_unknown_trade_show_is_an_error(stack: Stack) -> None:
    done = stack.cli("trade", "show", str(uuid.uuid4()))
    assert done.returncode == 1 and "no trade" in done.stderr


def test_metrics_report_the_seeds_execution_figures(stack: Stack) -> None:
    assert stack.cli("submit", "--user", "U123", "buy", "3", "AAPL", "--wait").returncode == 0
    assert stack.cli("submit", "--user", "U999", "buy", "1", "AAPL", "--wait").returncode == 1  # rejected
    done = stack.cli("metrics", "--since", "1h", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["total_executions"] == 1 and doc["executed"] == 1 and doc["rejected"] == 1
    assert float(doc["success_rate_pct"]) == 100.0
    assert doc["execution_methods"]["simulation"]["count"] == 1
    assert doc["average_execution_time_ms"] is not None and doc["average_slippage_bps"] is not None
    assert stack.cli("metrics", "--since", "soon").returncode == 2


def test_halted_a_trade_is_refused_with_the_reason_and_after_resume_it_goes_through(stack: Stack) -> None:
    assert stack.cli("halt", "--reason", "exchange outage drill", "--as", "OPS1").returncode == 0
    refused = stack.cli("submit", "--user", "U123", "buy", "1", "AAPL", "--wait", "--json")
    outcome = json.loads(refused.stdout)
    assert refused.returncode == 1 and outcome["error_code"] == "TRADING_HALTED"
    assert "exchange outage drill" in outcome["error_message"]
    assert stack.cli("resume", "--as", "OPS1").returncode == 0
    done = stack.cli("submit", "--user", "U123", "buy", "1", "AAPL", "--wait", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "executed"
