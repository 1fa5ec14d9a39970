"""Operator identity: `--as` is a claim, so every operator action is journaled with what the machine knows
of its caller (OS user, host and, on AWS, the STS caller identity), and TRADEFLOW_ADMINS only ever
bootstraps the first admin. Real DynamoDB Local for the journal, moto's server for STS."""

from __future__ import annotations

import asyncio
import getpass
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from messages.records import ActivityEvent
from workers.access.journal import Journal
from workers.bootstrap import open_store
from workers.console.access.authorize import AccessRefused, run_as
from workers.console.access.caller import STS_ENDPOINT_VARIABLE
from workers.settings import Settings, load_settings
from workers.store.port import TradeStore


def stack_settings(endpoint: str, prefix: str, **extra: str) -> Settings:
    return load_settings({"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "DYNAMODB_TABLE_PREFIX": prefix, **extra})


def journal_of(settings: Settings, since: datetime) -> list[ActivityEvent]:
    async def read() -> list[ActivityEvent]:
        store = await open_store(settings)
        try:
            streams = ("ops", "access")
            return [e for s in streams for e in await store.list_activity(s, since)]
        finally:
            await store.close()

    return asyncio.run(read())


def probe(store: TradeStore, journal: Journal, actor: str) -> Any:
    return journal.record("ops", "probe_action", actor)


def test_every_operator_action_and_refusal_carries_the_os_user_host_and_aws_caller(
    dynamodb_local_endpoint: str, table_prefix: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STS_ENDPOINT_VARIABLE, moto_endpoint)  # an STS to ask, as on AWS
    settings = stack_settings(dynamodb_local_endpoint, table_prefix, TRADEFLOW_ADMINS="OPS1")
    since = datetime.now(UTC) - timedelta(seconds=1)
    run_as(settings, "OPS1", "admin", "users list", probe)
    with pytest.raises(AccessRefused):
        run_as(settings, "U777", "operator", "halt", probe)

    entries = journal_of(settings, since)
    assert {e.event_type for e in entries} == {"roles_seeded", "probe_action", "command_refused"}
    for entry in entries:
        caller = entry.details["caller"]
        assert caller["os_user"] == getpass.getuser() and caller["host"] == socket.gethostname()
        assert caller["aws_caller"].startswith("arn:aws:"), caller


def test_off_aws_the_caller_is_the_os_user_and_host_alone(
    dynamodb_local_endpoint: str, table_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(STS_ENDPOINT_VARIABLE, raising=False)
    settings = stack_settings(dynamodb_local_endpoint, table_prefix, TRADEFLOW_ADMINS="OPS1")
    since = datetime.now(UTC) - timedelta(seconds=1)
    run_as(settings, "OPS1", "admin", "users list", probe)
    [action] = [e for e in journal_of(settings, since) if e.event_type == "probe_action"]
    assert action.details["caller"] == {"os_user": getpass.getuser(), "host": socket.gethostname()}


def test_admins_named_in_the_settings_of_a_later_command_are_not_made_admins(
    dynamodb_local_endpoint: str, table_prefix: str
) -> None:
    first = stack_settings(dynamodb_local_endpoint, table_prefix, TRADEFLOW_ADMINS="OPS1")
    run_as(first, "OPS1", "admin", "users list", probe)  # bootstraps OPS1, the desk's first admin
    later = stack_settings(dynamodb_local_endpoint, table_prefix, TRADEFLOW_ADMINS="UEVIL")
    with pytest.raises(AccessRefused, match="does not have the admin role"):
        run_as(later, "UEVIL", "admin", "users list", probe)
