"""The desk's risk limits through the whole chain on the Alpaca emulator: an operator sets a trader's daily
buy notional with `tradeflow limits set`, `limits show --json` lists it, and the trade that would break it
is refused with the limit, its value and what the trade would have made it, while another trader trades."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e


def _submit(stack: Stack, user: str, *args: str) -> tuple[int, dict[str, Any]]:
    done = stack.cli("submit", "--user", user, *args, "--wait", "--timeout", "60", "--json")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_a_trader_over_their_daily_notional_is_refused_with_the_limit_named(alpaca_stack: Stack) -> None:
    alpaca_stack.emulator.admin.set_price("ORCL", "100.00", freeze=True)  # quoted by no other test
    done = alpaca_stack.cli("limits", "set", "--user", "U123", "--daily-buy-notional", "2500", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(alpaca_stack.cli("limits", "show", "--json").stdout)
    assert shown["users"]["U123"]["daily_buy_notional"] == "2500"
    assert shown["users"]["U123"]["updated_by"] == "OPS1"

    code, first = _submit(
        alpaca_stack, "U123", "buy", "20", "ORCL", "--type", "limit", "--limit-price", "101"
    )
    assert code == 0 and first["status"] == "executed", first
    code, refused = _submit(
        alpaca_stack, "U123", "buy", "10", "ORCL", "--type", "limit", "--limit-price", "101"
    )
    assert code == 1 and refused["status"] == "rejected", refused
    [reason] = refused["rejection_reasons"]
    assert reason["code"] == "DAILY_BUY_NOTIONAL_LIMIT"
    assert "over your daily limit of $2,500.00" in reason["message"]
    assert "would reach $3,0" in reason["message"]  # $2,000-odd filled + $1,010 asked
    assert alpaca_stack.emulator.admin.orders(refused["trade_id"]) == []
    notice = alpaca_stack.outbox.read_text()
    assert "over your daily limit of $2,500.00" in notice

    code, other = _submit(alpaca_stack, "U456", "buy", "10", "ORCL")  # the desk sets no default
    assert code == 0 and other["status"] == "executed", other
    journal = json.loads(
        alpaca_stack.cli("audit", "activity", "--stream", "ops", "--since", "1h", "--json").stdout
    )
    [change] = [entry for entry in journal["events"] if entry["event_type"].startswith("limits_")]
    assert change["actor"] == "OPS1"
