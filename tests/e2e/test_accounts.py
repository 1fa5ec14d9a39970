"""Several Alpaca paper accounts: each trader's trades land in their own account at the emulator (each with
its own key pair, orders and positions), a trader may name only the accounts set for them, and an account
the desk lacks is refused by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.alpaca import AlpacaEmulator
from tests.e2e.stack import Stack, run_stack
from tests.fixtures_alpaca import TEST_SETTINGS

pytestmark = pytest.mark.e2e

GROWTH = {"name": "growth", "key_id": "PKEMULATOR00000000002", "secret_key": "emulator-secret-growth"}


@pytest.fixture
def two_account_stack(stack_env: tuple[dict[str, str], Path]) -> Iterator[Stack]:
    """Workers trading in two paper accounts of one emulator: `main` (the default) and `growth`."""
    emulator = AlpacaEmulator(**TEST_SETTINGS, accounts=[GROWTH]).start()
    env, spans = stack_env
    env = {
        **env,
        **emulator.environment(),
        "ALPACA_PAPER_ENABLED": "true",
        "TRADEFLOW_FILL_TIMEOUT_S": "5",
        "TRADEFLOW_ALPACA_ACCOUNTS": "growth",
        "ALPACA_GROWTH_API_KEY": GROWTH["key_id"],
        "ALPACA_GROWTH_SECRET_KEY": GROWTH["secret_key"],
    }
    try:
        for stack in run_stack(env, spans, "workers.app:rabbitmq"):
            stack.emulator = emulator
            yield stack
    finally:
        emulator.stop()


def _submit(stack: Stack, user: str, *args: str) -> tuple[int, dict[str, Any]]:
    done = stack.cli("submit", "--user", user, *args, "--wait", "--timeout", "60", "--json")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_two_traders_trades_land_in_their_own_accounts_and_a_foreign_one_is_refused(
    two_account_stack: Stack,
) -> None:
    stack, admin = two_account_stack, two_account_stack.emulator.admin
    for user, accounts in (("U456", ["growth"]), ("U789", ["growth", "main"])):
        added = stack.cli(
            "users", "add", user, "--role", "trader", *[f"--account={a}" for a in accounts], "--json"
        )
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["accounts"] == accounts

    code, mine = _submit(stack, "U123", "buy", "10", "AAPL")  # no accounts set: the desk's default
    assert code == 0 and mine["status"] == "executed" and mine["account"] == "main", mine
    code, theirs = _submit(stack, "U456", "buy", "5", "MSFT")  # their default: growth
    assert code == 0 and theirs["status"] == "executed" and theirs["account"] == "growth", theirs
    code, named = _submit(stack, "U789", "buy", "2", "AAPL", "--account", "main")  # named, and theirs
    assert code == 0 and named["account"] == "main", named

    main_orders = {o["client_order_id"] for o in admin.orders(account="default")}
    growth_orders = {o["client_order_id"] for o in admin.orders(account="growth")}
    assert main_orders == {mine["trade_id"], named["trade_id"]}
    assert growth_orders == {theirs["trade_id"]}
    held = {a["name"]: a for a in admin.accounts()}
    assert set(held) == {"default", "growth"}

    code, refused = _submit(stack, "U123", "buy", "1", "AAPL", "--account", "growth")
    assert code == 1 and refused["status"] == "rejected", refused
    [reason] = refused["rejection_reasons"]
    assert reason["code"] == "ACCOUNT_NOT_ALLOWED" and "growth" in reason["message"]
    code, unknown = _submit(stack, "U456", "buy", "1", "AAPL", "--account", "nope")
    assert code == 1 and unknown["rejection_reasons"][0]["code"] == "UNKNOWN_ACCOUNT", unknown
    assert {o["client_order_id"] for o in admin.orders(account="growth")} == growth_orders  # nothing left

    # One trader, one symbol, two accounts: two positions, each reconciled with its own account.
    code, growth_buy = _submit(stack, "U789", "buy", "3", "AAPL", "--account", "growth")
    assert code == 0 and growth_buy["account"] == "growth", growth_buy
    listed = json.loads(stack.cli("positions", "U789", "--json").stdout)["positions"]
    held = {(p["symbol"], p.get("account")): p["quantity"] for p in listed}
    assert held == {("AAPL", "main"): "2", ("AAPL", "growth"): "3"}
    reconciled = stack.cli("positions", "reconcile", "--json")
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    doc = json.loads(reconciled.stdout)
    assert doc["compared"] is True and doc["drift"] == []
    rows = {row["symbol"]: (row["tradeflow"], row["alpaca"]) for row in doc["symbols"]}
    assert rows == {"AAPL@main": ("12", "12"), "AAPL@growth": ("3", "3"), "MSFT@growth": ("5", "5")}

    metrics = json.loads(stack.cli("metrics", "--json").stdout)["by_account"]
    assert metrics["growth"] == {
        "trades": 3,
        "executed": 2,
        "failed": 0,
        "rejected": 1,
        "success_rate_pct": "100.00",
    }
    assert (metrics["main"]["executed"], metrics["main"]["rejected"]) == (2, 0)
    assert metrics["nope"]["rejected"] == 1  # refused in the account it named, which the desk lacks

    numbers = {a["name"]: a["account_number"] for a in admin.accounts()}
    for name, at_emulator in (("main", "default"), ("growth", "growth")):
        read = json.loads(stack.cli("account", "--account", name, "--json").stdout)
        assert read["read"] is True and read["account"] == name
        assert read["account_number"] == numbers[at_emulator]


def test_halting_one_account_stops_its_trades_only_until_it_is_resumed(two_account_stack: Stack) -> None:
    stack = two_account_stack
    assert stack.cli("users", "add", "U456", "--role", "trader", "--account", "growth").returncode == 0
    halted = stack.cli("halt", "--account", "growth", "--reason", "broker review", "--json")
    assert halted.returncode == 0, halted.stderr
    assert json.loads(halted.stdout)["account"] == "growth"

    health = stack.cli("health", "--json")
    store_check = next(c for c in json.loads(health.stdout)["checks"] if c["name"] == "dynamodb")
    assert store_check["data"] == {"halted": False, "halted_accounts": ["growth"], "halted_traders": {}}

    code, refused = _submit(stack, "U456", "buy", "1", "MSFT")
    assert code == 1 and refused["account"] == "growth", refused
    [reason] = refused["rejection_reasons"]
    assert (
        reason["code"] == "TRADING_HALTED" and "growth account is halted: broker review" in reason["message"]
    )
    code, desk = _submit(stack, "U123", "buy", "1", "AAPL")  # the main account trades on
    assert code == 0 and desk["status"] == "executed", desk

    assert stack.cli("resume", "--account", "growth").returncode == 0
    code, again = _submit(stack, "U456", "buy", "1", "MSFT")
    assert code == 0 and again["status"] == "executed" and again["account"] == "growth", again
    assert stack.cli("halt", "--account", "nope").returncode == 2  # no such account: nothing halted
