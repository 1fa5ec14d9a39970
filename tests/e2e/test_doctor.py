"""`tradeflow doctor`: the seed's three checks on the whole stack, the last one through the real chain."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from tests.e2e.stack import SlackStack, Stack

pytestmark = pytest.mark.e2e

DOCTOR = "UDOCTOR"  # TRADEFLOW_DOCTOR_USER's default: the workers admit it as a trader


def _submitted_trade_id(stdout: str) -> str:
    found = re.search(r"Trade ID \(trace id\): ([0-9a-f-]{36})", stdout)
    assert found, stdout
    return found.group(1)


# The seed's expected output, line for line where it has them (its values vary: execution id, prices).
SEED_BLOCK = [
    "🚀 Simulating Enhanced Trade Execution...",
    "📊 Execution Results:",
    "   Success: True",
    r"   Execution ID: \S+",
    r"   Execution Price: \$[\d,]+\.\d{2}",
    r"   Execution Time: \d+\.\d{2}ms",
    r"   Alpaca Order ID: \S+",
    r"   Slippage: -?\d+\.\d{2} bps",
]


def test_doctor_passes_the_seeds_three_checks_through_the_real_chain(slack_stack: SlackStack) -> None:
    stack = slack_stack.stack
    done = stack.cli("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    for expected in (
        "✅ Alpaca Paper Trading is AVAILABLE",
        "Account Number: PA",
        "Cash: $500,000.00",
        "✅ Trade logged to database successfully",
        "✅ Trade retrieved from database successfully",
        "📊 Execution Results:",
        "Method: alpaca",
        f"✅ Position updated and {DOCTOR} notified",
        "Alpaca Service: ✅ PASS",
        "Database Logging: ✅ PASS",
        "Enhanced Execution: ✅ PASS",
        "📊 Overall Results: 3/3 tests passed",
    ):
        assert expected in done.stdout, expected
    lines = done.stdout.splitlines()
    start = lines.index(SEED_BLOCK[0])
    for pattern, line in zip(SEED_BLOCK, lines[start : start + len(SEED_BLOCK)], strict=True):
        assert re.fullmatch(re.escape(pattern) if pattern == SEED_BLOCK[0] else pattern, line), line
    assert lines[:2] == ["🎯 Starting Enhanced Trade Execution Tests", "=" * 60]
    trade_id = _submitted_trade_id(done.stdout)
    # The workers placed it on Alpaca under the trade id, once, and the doctor printed Alpaca's order id.
    [order] = stack.emulator.admin.orders(trade_id)
    assert order["symbol"] == "SPY" and f"Alpaca Order ID: {order['id']}" in done.stdout

    async def records(store: Any) -> tuple[Any, Any, list[Any], list[str]]:
        trade = await store.get_trade(uuid.UUID(trade_id))
        audit = [a.event_type for a in await store.list_audit(trade.trade_id)]
        return trade, await store.get_position(DOCTOR, "SPY"), await store.list_positions("U123"), audit

    trade, position, traders_positions, audit = stack.store_call(records)
    assert trade.status == "executed" and trade.user_id == DOCTOR and trade.source == "doctor"
    assert f"Execution ID: {trade.execution_id}" in done.stdout
    assert audit == [
        "trade_submitted",
        "trade_recorded",
        "trade_executed",
        "position_updated",
        "trade_notified",
    ]
    assert position is not None and position.quantity == 1  # the doctor's own position moved...
    assert traders_positions == []  # ...and no real trader's did
    assert len(slack_stack.driver.messages_to(DOCTOR)) == 1  # the notification the doctor waited for


def test_doctor_fails_the_database_check_when_dynamodb_local_is_stopped(
    own_dynamodb_stack: Stack, own_dynamodb_local: Any
) -> None:
    own_dynamodb_local.stop()
    done = own_dynamodb_stack.cli("doctor", timeout=90)  # bounded: the store's calls fail fast
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Alpaca Service: ✅ PASS" in done.stdout
    assert "Database Logging: ❌ FAIL" in done.stdout
    assert "❌ Database logging failed: StoreUnavailable" in done.stdout
    assert "Enhanced Execution: ❌ FAIL" in done.stdout
    assert "📊 Overall Results: 1/3 tests passed" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    as_json = own_dynamodb_stack.cli("doctor", "--json", timeout=90)
    doc = json.loads(as_json.stdout)
    assert (doc["ok"], doc["passed"], doc["total"]) == (False, 1, 3)
    assert doc["alpaca_service"]["ok"] and doc["alpaca_service"]["account_number"].startswith("PA")
    assert not doc["database_logging"]["ok"] and "StoreUnavailable" in doc["database_logging"]["error"]
    assert doc["enhanced_execution"] == {"ok": False, "error": "not run: database logging failed"}
    # No trade was published into a chain that could not record it.
    assert own_dynamodb_stack.queues.count(own_dynamodb_stack.queue("validation")) == 0
    assert own_dynamodb_stack.emulator.admin.orders() == []


def test_doctor_fails_the_alpaca_check_when_the_paper_guard_refuses(alpaca_stack: Stack) -> None:
    import subprocess
    import sys

    from tests.e2e.stack import REPO_ROOT

    env = {**alpaca_stack.env, "ALPACA_PAPER_API_KEY": "AKLIVE00000000000001"}
    done = subprocess.run(
        [sys.executable, "-m", "workers.console.main", "doctor"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "DISABLED" in done.stdout and "Alpaca Service: ❌ FAIL" in done.stdout
    # The doctor's own Alpaca client was refused; the workers (with their paper keys) still execute.
    assert "Enhanced Execution: ✅ PASS" in done.stdout
    assert "📊 Overall Results: 2/3 tests passed" in done.stdout
