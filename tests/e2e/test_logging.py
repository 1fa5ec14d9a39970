"""The worker's logs with TRADEFLOW_LOG_FORMAT=json: every line a JSON object, each trade's lines tagged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import Stack, stop_workers
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

EXECUTED = {
    "validation": "validated",
    "persistence": "recorded",
    "execution": "executed",
    "positions": "position_updated",
    "notifications": "notified",
}
REJECTED = {"validation": "rejected", "notifications": "notified"}


@pytest.fixture
def debug_mode() -> bool:
    return False


@pytest.fixture
def stack_env(
    stack_env: tuple[dict[str, str], Path], debug_mode: bool
) -> Iterator[tuple[dict[str, str], Path]]:
    env, spans = stack_env
    yield {**env, "TRADEFLOW_LOG_FORMAT": "json", "DEBUG_MODE": str(debug_mode).lower()}, spans


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "worker.log"


def log_lines(path: Path) -> list[dict[str, Any]]:
    """Every complete line written so far, each parsed as the JSON object it must be."""
    text = path.read_text(encoding="utf-8")
    complete = text[: text.rfind("\n") + 1]
    lines = []
    for line in complete.splitlines():
        document = json.loads(line)  # fails the test on any line that is not JSON
        assert isinstance(document, dict), line
        lines.append(document)
    return lines


def outcomes(lines: list[dict[str, Any]], trade_id: str) -> dict[str, list[str]]:
    """Each stage's outcome lines for one trade, by stage."""
    found: dict[str, list[str]] = {}
    for line in lines:
        stage = line["logger"].removeprefix("tradeflow.stage.")
        if line.get("trade_id") == trade_id and stage != line["logger"]:
            found.setdefault(stage, []).append(line["outcome"])
    return found


def submit(stack: Stack, user: str) -> str:
    done = stack.cli("submit", "--user", user, "buy", "2", "AAPL", "--wait", "--json")
    assert done.returncode in (0, 1), done.stderr
    trade_id: str = json.loads(done.stdout)["trade_id"]
    return trade_id


def test_every_worker_line_is_json_and_each_trade_lines_carry_its_trade_id(
    stack: Stack, worker_log: Path
) -> None:
    executed, rejected = submit(stack, "U123"), submit(stack, "U999")
    eventually(
        lambda: (
            outcomes(log_lines(worker_log), executed).keys() == EXECUTED.keys()
            and outcomes(log_lines(worker_log), rejected).keys() == REJECTED.keys()
        ),
        timeout=30,
    )
    stop_workers(stack)  # its shutdown lines are worker lines too
    lines = log_lines(worker_log)

    assert all({"ts", "level", "logger", "message", "service"} <= line.keys() for line in lines)
    assert {line["service"] for line in lines} == {"tradeflow-worker"}
    # One outcome line per stage, once each.
    assert outcomes(lines, executed) == {stage: [outcome] for stage, outcome in EXECUTED.items()}
    assert outcomes(lines, rejected) == {stage: [outcome] for stage, outcome in REJECTED.items()}
    for trade_id in (executed, rejected):
        about = [
            line
            for line in lines
            if trade_id in line["message"] or line.get("trace_id") == trade_id.replace("-", "")
        ]
        assert about and all(line.get("trade_id") == trade_id for line in about)
        tagged = [line for line in lines if line.get("trade_id") == trade_id]
        assert {line.get("trace_id") for line in tagged} == {trade_id.replace("-", "")}
    # Lines outside any trade (start, shutdown) carry no trade id.
    assert any(line["message"] == "Worker process is ready for action." for line in lines)
    assert all(
        "trade_id" not in line for line in lines if line["logger"].startswith("dramatiq.WorkerProcess")
    )


@pytest.mark.parametrize("debug_mode", [True])
def test_debug_mode_logs_each_stage_payload_with_its_trade_id(stack: Stack, worker_log: Path) -> None:
    trade_id = submit(stack, "U123")

    def payload_lines() -> list[dict[str, Any]]:
        lines = [
            line
            for line in log_lines(worker_log)
            if line["logger"] == "tradeflow.actors"
            and line["payload"].get("trade", {}).get("trade_id") == trade_id
        ]
        return lines if len(lines) == len(EXECUTED) else []

    lines = eventually(payload_lines, timeout=30)
    assert sorted(line["message"].split()[0] for line in lines) == sorted(EXECUTED)
    assert all(line["level"] == "DEBUG" and line["trade_id"] == trade_id for line in lines)
