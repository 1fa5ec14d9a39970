"""The fault campaign, small N: every trade settles once, whatever was injected (`make faults`: N=1000)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.faults.campaign import run_campaign

pytestmark = pytest.mark.e2e

TRADES = int(os.environ.get("TRADEFLOW_FAULT_TRADES", "100"))


def test_a_campaign_of_faults_loses_nothing_and_does_nothing_twice(tmp_path: Path) -> None:
    seed = int(os.environ.get("TRADEFLOW_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"fault campaign seed {seed} (replay: TRADEFLOW_FAULT_SEED={seed})")
    result = run_campaign(TRADES, seed, tmp_path)
    print("\n".join(result.lines()))
    assert result.submitted.accepted, f"seed {seed}: no trade was accepted"
    assert result.figures.problems() == {}, f"seed {seed}: {result.figures.problems()}"
    kinds = result.faults.counts()
    assert "injector error" not in kinds, f"seed {seed}: {result.faults.entries}"
    assert {
        "kill -9 worker",
        "rabbitmq stop_app",
        "dynamodb local stopped",
        "paper guard: live account",
    } <= set(kinds)
