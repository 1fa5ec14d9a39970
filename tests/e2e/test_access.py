"""Roles and the activity journal from outside: the CLI against worker processes, RabbitMQ and DynamoDB Local.

Every stack seeds OPS1 as an admin (TRADEFLOW_ADMINS) with the operator role, and runs `stack.cli` as OPS1
(TRADEFLOW_OPERATOR); U123 and U456 are traders (TRADEFLOW_TRADERS).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import msgspec
import pytest

from messages.codec import to_payload
from messages.events import TradeRecorded
from tests.e2e.stack import Stack
from tests.waiting import eventually
from workers.console.common import EXIT_FAILED, EXIT_REFUSED, EXIT_USAGE
from workers.console.trades.submit import build_command

pytestmark = pytest.mark.e2e


def _activity(stack: Stack, stream: str) -> list[dict[str, Any]]:
    done = stack.cli("audit", "activity", "--stream", stream, "--since", "1h", "--json")
    assert done.returncode == 0, done.stderr
    events: list[dict[str, Any]] = json.loads(done.stdout)["events"]
    return events


def test_a_trade_from_a_user_without_the_trader_role_is_refused_with_a_reason_and_audited(
    stack: Stack,
) -> None:
    refused = stack.cli("submit", "--user", "U999", "buy", "1", "AAPL", "--wait", "--json")
    outcome = json.loads(refused.stdout)
    assert (
        refused.returncode == 1
        and outcome["status"] == "rejected"
        and outcome["error_code"] == "NOT_A_TRADER"
    )
    assert outcome["error_message"] == "U999 does not have the trader role"  # the seed's Error line
    assert "• Ask an admin to grant you the trader role" in stack.outbox.read_text()  # its Next Steps
    trail = json.loads(stack.cli("trade", "show", outcome["trade_id"], "--json").stdout)["audit"]
    [rejection] = [a for a in trail if a["event_type"] == "trade_rejected"]
    assert rejection["user_id"] == "U999" and rejection["details"]["reasons"][0]["code"] == "NOT_A_TRADER"
    assert "✅" not in stack.outbox.read_text()  # what U999 was told: the refusal, with its reason

    # An admin grants the role; it counts at once (a missing role is always read again)
    granted = stack.cli("users", "add", "U999", "--role", "trader", "--json")
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["granted"] == ["trader"]
    done = stack.cli("submit", "--user", "U999", "buy", "1", "AAPL", "--wait", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "executed"
    [change] = [
        e
        for e in _activity(stack, "ops")
        if e["event_type"] == "roles_granted" and e["details"]["user_id"] == "U999"
    ]
    assert change["actor"] == "OPS1" and change["details"]["roles"] == ["trader"]


def _dead_letter(stack: Stack) -> str:
    execution = stack.queue("execution")
    unknown = build_command(user_id="U123", side="buy", quantity="1", symbol="AAPL").trade
    recorded = TradeRecorded(trade=unknown, recorded_at=unknown.submitted_at)
    envelope = {
        "queue_name": execution,
        "actor_name": "execution",
        "args": [to_payload(recorded)],
        "kwargs": {},
        "options": {},
        "message_id": "access-test",
        "message_timestamp": 0,
    }
    stack.queues.publish_raw(execution, msgspec.json.encode(envelope))
    eventually(lambda: stack.queues.count(f"{execution}.XQ") == 1)
    return "access-test"


def test_operator_commands_are_refused_without_the_operator_role_and_every_refusal_is_audited(
    stack: Stack,
) -> None:
    message_id = _dead_letter(stack)
    replay = stack.cli("dlq", "replay", "execution", "--all", "--as", "U999")
    assert replay.returncode == EXIT_REFUSED
    assert "U999 does not have the operator role" in replay.stderr and "Traceback" not in replay.stderr
    shown = json.loads(stack.cli("dlq", "show", "execution", message_id, "--json").stdout)
    assert shown["found"] is True and "replayed_by" not in json.dumps(shown)  # it never left the XQ
    for command in (
        ["halt", "--reason", "not mine"],
        ["resume"],
        ["reconcile"],
        ["dlq", "purge", "execution", "--yes"],
    ):
        assert stack.cli(*command, "--as", "U123").returncode == EXIT_REFUSED  # a trader is no operator
    assert stack.cli("users", "list", "--as", "U123").returncode == EXIT_REFUSED  # nor an admin
    assert stack.queues.count(stack.queue("execution") + ".XQ") == 1
    submitted = stack.cli("submit", "--user", "U123", "buy", "1", "AAPL", "--wait", "--json")
    assert json.loads(submitted.stdout)["status"] == "executed"  # the refused halt did not halt

    refusals = _activity(stack, "access")
    assert [(e["actor"], e["details"]["command"], e["details"]["required_role"]) for e in refusals] == [
        ("U999", "dlq replay", "operator"),
        ("U123", "halt", "operator"),
        ("U123", "resume", "operator"),
        ("U123", "reconcile", "operator"),
        ("U123", "dlq purge", "operator"),
        ("U123", "users list", "admin"),
    ]
    assert refusals[1]["details"]["roles"] == ["trader"]

    # The operator (OPS1, from TRADEFLOW_OPERATOR) replays it, and the journal says who
    assert stack.cli("dlq", "replay", "execution", message_id).returncode == 0
    [replayed] = [e for e in _activity(stack, "ops") if e["event_type"] == "dead_letters_replayed"]
    assert replayed["actor"] == "OPS1" and replayed["details"]["queue"] == stack.queue("execution") + ".XQ"
    assert replayed["details"]["replayed"][0]["message_id"] == message_id


def test_halt_and_resume_record_the_operator_identity(idle_stack: Stack) -> None:
    assert idle_stack.cli("halt", "--reason", "exchange outage drill", "--as", "OPS1").returncode == 0
    switch = idle_stack.store_call(lambda store: store.get_kill_switch())
    assert switch.engaged and switch.changed_by == "OPS1"
    assert idle_stack.cli("resume").returncode == 0  # as TRADEFLOW_OPERATOR
    events = [e for e in _activity(idle_stack, "ops") if e["event_type"].startswith("trading_")]
    assert [(e["event_type"], e["actor"], e["details"].get("reason")) for e in events] == [
        ("trading_halted", "OPS1", "exchange outage drill"),
        ("trading_resumed", "OPS1", None),
    ]
    shown = idle_stack.cli("audit", "activity", "--stream", "ops")
    assert "trading_halted" in shown.stdout and "OPS1" in shown.stdout

    nobody = {k: v for k, v in idle_stack.env.items() if k != "TRADEFLOW_OPERATOR"}
    anonymous = _cli_with(nobody, "halt", "--reason", "who am I")
    assert anonymous.returncode == EXIT_USAGE and "--as USER_ID" in anonymous.stderr


def test_only_admins_manage_roles_and_every_change_is_journaled(idle_stack: Stack) -> None:
    cli = idle_stack.cli
    assert cli("users", "add", "U777", "--role", "viewer", "--role", "operator").returncode == 0
    listed = json.loads(cli("users", "list", "--json").stdout)
    roles = {u["user_id"]: u["roles"] for u in listed["users"]}
    assert roles["U777"] == ["viewer", "operator"] and roles["OPS1"] == ["operator", "admin"]
    assert roles["U123"] == ["trader"] and roles["U456"] == ["trader"]  # seeded from TRADEFLOW_TRADERS

    assert cli("users", "add", "U888", "--role", "admin", "--as", "U777").returncode == EXIT_REFUSED
    assert cli("users", "remove", "U777", "--role", "operator", "--json").returncode == 0
    assert cli("halt", "--as", "U777").returncode == EXIT_REFUSED  # the removal counts at once here
    last = cli("users", "remove", "OPS1", "--role", "admin")
    assert last.returncode == EXIT_FAILED and "last admin" in last.stderr
    removed = cli("users", "remove", "U123", "--json")  # a seeded trader; seeding never gives it back
    assert json.loads(removed.stdout)["removed"] == ["trader"]
    again = json.loads(cli("users", "list", "--json").stdout)
    [u123] = [u for u in again["users"] if u["user_id"] == "U123"]
    assert u123["roles"] == [] and u123["removed"][0]["removed_by"] == "OPS1"

    ops = [(e["event_type"], e["actor"], e["details"].get("user_id")) for e in _activity(idle_stack, "ops")]
    assert ("roles_granted", "OPS1", "U777") in ops and ("roles_removed", "OPS1", "U777") in ops
    assert ("roles_removed", "OPS1", "U123") in ops
    assert sum(1 for event_type, _, _ in ops if event_type == "roles_seeded") == 1


def _cli_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    from tests.e2e.stack import REPO_ROOT

    return subprocess.run(
        [sys.executable, "-m", "workers.console.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=REPO_ROOT,
        check=False,
    )
