"""Retention: one setting, never below the regulatory minimum, stamped on every trade and audit item."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from messages.events import AnyMessage
from messages.records import SEVEN_YEARS_DAYS
from tests.unit.fakes import make_deps, submit
from workers.chain.routing import next_stage
from workers.chain.stage_handlers import STAGE_HANDLERS as HANDLERS
from workers.handlers.audit import expires_at
from workers.handlers.deps import Deps
from workers.settings import SettingsError, load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_minimum_is_seven_years_and_the_default() -> None:
    assert SEVEN_YEARS_DAYS == 7 * 365 + 2
    assert load_settings({}).tradeflow_audit_retention_days == SEVEN_YEARS_DAYS
    assert load_settings({"TRADEFLOW_AUDIT_RETENTION_DAYS": "3650"}).tradeflow_audit_retention_days == 3650


@pytest.mark.parametrize("days", [str(SEVEN_YEARS_DAYS - 1), "365", "0", "-2557"])
def test_a_retention_below_the_minimum_is_refused_with_the_minimum_named(days: str) -> None:
    with pytest.raises(
        SettingsError, match=f"TRADEFLOW_AUDIT_RETENTION_DAYS must be at least {SEVEN_YEARS_DAYS}"
    ):
        load_settings({"TRADEFLOW_AUDIT_RETENTION_DAYS": days})


def test_no_code_path_stamps_less_than_the_minimum() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    assert expires_at(now, SEVEN_YEARS_DAYS) == int((now + timedelta(days=SEVEN_YEARS_DAYS)).timestamp())
    with pytest.raises(ValueError, match="minimum"):
        expires_at(now, SEVEN_YEARS_DAYS - 1)


async def run_chain(message: AnyMessage, deps: Deps) -> None:
    current: AnyMessage | None = message
    while current is not None:
        current = await HANDLERS[next_stage(current)](current, deps)


async def test_a_trade_its_audit_and_its_chain_head_expire_retention_days_after_being_written() -> None:
    deps = make_deps(retention_days=3650)
    command = submit()
    await run_chain(command, deps)
    trade_id = command.trade.trade_id
    retention = timedelta(days=3650)

    record = await deps.store.get_trade(trade_id)
    assert record is not None and record.status == "executed" and record.recorded_at is not None
    assert record.expires_at == int((record.recorded_at + retention).timestamp())
    events = await deps.store.list_audit(trade_id)
    assert len(events) == 5
    assert all(event.expires_at == int((event.timestamp + retention).timestamp()) for event in events)
    chain = await deps.store.read_audit_chain(trade_id)
    assert chain.head is not None
    assert int(chain.head["expires_at"]["N"]) == max(event.expires_at for event in events)


def test_the_cli_will_not_start_with_a_retention_below_the_minimum() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEFLOW_")}
    env |= {"TRADEFLOW_AUDIT_RETENTION_DAYS": "2000", "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "workers.console.main", "health"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "tradeflow: TRADEFLOW_AUDIT_RETENTION_DAYS must be at least"
        f" {SEVEN_YEARS_DAYS} (7-year regulatory minimum)\n"
    )
    assert done.stdout == ""
