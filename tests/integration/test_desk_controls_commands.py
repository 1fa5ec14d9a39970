"""`tradeflow limits` and `tradeflow alerts desk` as an operator runs them, on DynamoDB Local: each change
written with its journal entry (the operator, the machine's facts of the caller, each old and new value),
read back by `show`; a caller without the operator role changes nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from messages.records import ActivityEvent
from workers.access.journal import Journal
from workers.access.roles import grant
from workers.bootstrap import open_store
from workers.console.args import build_parser
from workers.console.common import EXIT_OK, EXIT_REFUSED
from workers.console.main import command_of
from workers.settings import Settings, load_settings


@pytest.fixture
def settings(dynamodb_local_endpoint: str, table_prefix: str) -> Settings:
    settings = load_settings(
        {"AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local_endpoint, "DYNAMODB_TABLE_PREFIX": table_prefix}
    )

    async def make_operator() -> None:
        store = await open_store(settings)
        try:
            journal = Journal(store, settings.tradeflow_audit_retention_days)
            await grant(store, journal, "OPS1", ["operator"], by="ADMIN1")
        finally:
            await store.close()

    asyncio.run(make_operator())
    return settings


def tradeflow(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    args = build_parser().parse_args(list(argv))
    code = command_of(args)(args, settings)
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv and code == EXIT_OK else out


def ops_journal(settings: Settings, since: datetime) -> list[ActivityEvent]:
    async def read() -> list[ActivityEvent]:
        store = await open_store(settings)
        try:
            return await store.list_activity("ops", since)
        finally:
            await store.close()

    return asyncio.run(read())


def test_an_operator_sets_shows_and_clears_limits_each_change_journaled(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    desk_limits = ["--daily-buy-notional", "50000", "--max-open-orders", "5"]
    code, doc = tradeflow(settings, capsys, "limits", "set", "--desk", *desk_limits, "--as", "OPS1", "--json")
    assert code == EXIT_OK and doc["version"] == 1
    assert doc["limits"] == {"daily_buy_notional": "50000", "max_open_orders": 5}
    code, doc = tradeflow(
        settings,
        capsys,
        "limits",
        "set",
        "--user",
        "U123",
        "--max-open-orders",
        "2",
        "--as",
        "OPS1",
        "--json",
    )
    assert code == EXIT_OK and doc["changes"] == [{"limit": "max_open_orders", "old": None, "new": 2}]

    code, doc = tradeflow(settings, capsys, "limits", "show", "--user", "U123", "--json")
    assert code == EXIT_OK
    assert doc["effective"] == {"daily_buy_notional": "50000", "max_open_orders": 2}
    assert doc["own"]["updated_by"] == "OPS1"

    code, doc = tradeflow(
        settings, capsys, "limits", "clear", "--desk", "max-open-orders", "--as", "OPS1", "--json"
    )
    assert code == EXIT_OK and doc["changes"] == [{"limit": "max_open_orders", "old": 5, "new": None}]
    code, text = tradeflow(settings, capsys, "limits", "show")
    assert "daily buy notional  $50,000" in text and "Trader U123:" in text

    entries = [e for e in ops_journal(settings, since) if e.event_type.startswith("limits_")]
    assert [(e.event_type, e.actor, e.details["scope"]) for e in entries] == [
        ("limits_set", "OPS1", "desk"),
        ("limits_set", "OPS1", "user"),
        ("limits_cleared", "OPS1", "desk"),
    ]
    assert entries[0].details["changes"] == [
        {"limit": "daily_buy_notional", "old": None, "new": 50000},
        {"limit": "max_open_orders", "old": None, "new": 5},
    ]
    assert entries[1].details["user_id"] == "U123" and "os_user" in entries[1].details["caller"]


def test_an_operator_chooses_the_desks_alerts_and_clears_them(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    where = ["--email", "ops@desk.example", "--phone", "+15551234567", "--min-notional", "250000"]
    code, doc = tradeflow(
        settings, capsys, "alerts", "desk", "set", "--events", "halt,drift", *where, "--as", "OPS1", "--json"
    )
    assert code == EXIT_OK and doc["desk"]["kinds"] == ["halt", "drift"]
    code, doc = tradeflow(settings, capsys, "alerts", "desk", "show", "--json")
    assert doc["version"] == 1 and doc["desk"]["min_notional"] == "250000"
    assert doc["desk"]["phone"] == "+15551234567" and doc["desk"]["updated_by"] == "OPS1"
    code, doc = tradeflow(settings, capsys, "alerts", "desk", "clear", "--as", "OPS1", "--json")
    assert code == EXIT_OK and doc["version"] == 2 and doc["desk"] == {}

    entries = [e for e in ops_journal(settings, since) if e.event_type.startswith("alert_preferences_")]
    assert [e.event_type for e in entries] == ["alert_preferences_set", "alert_preferences_cleared"]
    assert {"field": "email", "old": None, "new": "ops@desk.example"} in entries[0].details["changes"]


def test_a_trader_cannot_change_the_limits(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = tradeflow(settings, capsys, "limits", "set", "--desk", "--max-open-orders", "1", "--as", "U123")
    assert code == EXIT_REFUSED
    code, doc = tradeflow(settings, capsys, "limits", "show", "--json")
    assert doc["version"] == 0
