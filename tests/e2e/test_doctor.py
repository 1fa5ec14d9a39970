"""`tradeflow doctor`: the seed's three checks against Alpaca (emulated) and DynamoDB Local."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def test_doctor_passes_the_seeds_three_checks_on_alpaca(alpaca_stack: Stack) -> None:
    done = alpaca_stack.cli("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    for expected in (
        "✅ Alpaca Paper Trading is AVAILABLE",
        "Account Number: PA",
        "Cash: $500,000.00",
        "✅ Trade logged to database successfully",
        "✅ Trade retrieved from database successfully",
        "Method: alpaca",
        "📊 Overall Results: 3/3 tests passed",
    ):
        assert expected in done.stdout, expected
    [order] = [o for o in alpaca_stack.emulator.admin.orders() if o["symbol"] == "SPY"]
    assert order["id"] in done.stdout


def test_doctor_fails_when_the_paper_guard_refuses(alpaca_stack: Stack) -> None:
    import subprocess
    import sys

    from tests.e2e.conftest import REPO_ROOT

    env = {**alpaca_stack.env, "ALPACA_PAPER_API_KEY": "AKLIVE00000000000001"}
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "doctor"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "DISABLED" in done.stdout and "Alpaca Service: ❌ FAIL" in done.stdout
    assert alpaca_stack.emulator.admin.orders() == []  # the simulation ran the execution check, not Alpaca
