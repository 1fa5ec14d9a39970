"""`tradeflow health` shows what is left of each Alpaca account's request budget, and fails when the
shared budget cannot be read (no request may leave then)."""

from __future__ import annotations

import time

from brokers.alpaca_budget import AccountBudget
from brokers.shared_state import MemoryState
from tests.unit.test_alpaca_rate_budget import Unreachable
from workers.console.checks.health import check_rate_budget

KEY, SERVER = "PKTEST0000000001", "http://127.0.0.1:1/paper"


def test_health_shows_each_apis_remaining_budget_and_alpacas_own_count() -> None:
    budget = AccountBudget(MemoryState(), api_key=KEY, server=SERVER)
    for _ in range(3):
        budget.take("trading")
    budget.take("data")
    budget.observe("trading", 200, {"X-RateLimit-Remaining": "196", "X-RateLimit-Reset": "1700000000"})

    check = check_rate_budget(budget)

    assert check.ok and check.name == "alpaca rate budget"
    assert "trading 197/200 left per 60 s, Alpaca says 196 left" in check.detail
    assert "data 199/200 left per 60 s" in check.detail
    assert "PKTE…0001" in check.detail and KEY not in check.detail  # never the whole key
    assert check.data["trading"]["remaining"] == 197 and check.data["data"]["used"] == 1


def test_health_says_when_alpaca_paused_every_sender() -> None:
    budget = AccountBudget(MemoryState(), api_key=KEY, server=SERVER)
    budget.observe("trading", 429, {"X-RateLimit-Reset": str(int(time.time()) + 20)})
    check = check_rate_budget(budget)
    assert check.ok and "trading 0/200 left" in check.detail and "PAUSED" in check.detail


def test_an_unreadable_shared_budget_fails_health() -> None:
    check = check_rate_budget(AccountBudget(Unreachable(), api_key=KEY, server=SERVER))
    assert not check.ok and "no request may leave" in check.detail
