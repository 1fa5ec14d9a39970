"""The fault campaign, small N: every trade settles once, whatever was injected (`make faults`: N=1000).

N is the smallest campaign that still meets every kind of fault and checks every verdict: `plan_faults`
plans every kind at least once whatever N is (16 faults at the smallest scale), at random moments of the
load; one trade per planned fault gives each fault a trade to meet, and the last faults (planned at 85 % of
the load at most) still fall while trades are being submitted. The checks then read back every trade,
order, DM, position and dead letter, whatever N is.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.cli_zygote import CliZygote
from tests.faults.campaign import run_campaign
from tests.faults.injectors import FAULT_KINDS, plan_faults
from tests.faults.kinds import KIND_NAMES

pytestmark = pytest.mark.e2e

SMALLEST = len(plan_faults(random.Random(0), n_trades=1, duration_s=1.0))  # faults planned at any N ≤ 199
TRADES = int(os.environ.get("FAULT_TRADES", str(SMALLEST)))
VERDICTS = (
    "lost",
    "duplicate orders",
    "executed twice (an Alpaca fill and another outcome)",
    "duplicate notifications",
    "missing notifications",
    "position mismatches",
    "unexplained dead letters",
    "orders while the paper guard failed",
    "untold submissions",
    "simulated beside a real order",
)


def test_a_campaign_of_faults_loses_nothing_and_does_nothing_twice(tmp_path: Path) -> None:
    seed = int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"fault campaign seed {seed} (replay: FAULT_SEED={seed})")
    # A trade whose execution worker was killed under it waits out its order lease: the e2e stacks' 5 s fill
    # wait and a 25 s margin (the campaign's 2 s Alpaca timeout keeps an attempt's requests to 13 s) end it
    # 60 s sooner than `make faults`' 30 s and 60 s. A 60 s trade deadline (make faults: 120 s):
    # stale_replay holds persistence down a minute less. Its workers (started again after each kill -9) and
    # operator commands fork from a zygote that imported tradeflow once: about 3 s of CPU saved each.
    zygote = CliZygote()
    try:
        result = run_campaign(
            TRADES,
            seed,
            tmp_path,
            fill_timeout_s=5.0,
            stuck_after_s=60.0,
            attempt_margin_s=25.0,
            launcher=zygote,
        )
    finally:
        zygote.close()
    print("\n".join(result.lines() + result.timeline()))
    assert result.submitted.accepted, f"seed {seed}: no trade was accepted"
    verdicts = result.figures.verdicts()
    assert tuple(verdicts) == VERDICTS, f"seed {seed}: the verdicts checked are {list(verdicts)}"
    assert result.figures.problems() == {}, f"seed {seed}: {result.figures.problems()}"
    kinds = result.faults.counts()
    assert "injector error" not in kinds, f"seed {seed}: {result.faults.entries}"
    not_injected = [kind for kind in FAULT_KINDS.values() if kinds.get(kind, 0) < 1]
    assert not_injected == [], f"seed {seed}: never injected: {not_injected} (injected: {kinds})"
    # each kind of tests/faults/kinds injected at least once, and its own check held
    assert tuple(outcome.kind for outcome in result.kinds) == KIND_NAMES
    assert [o.line() for o in result.kinds if not o.ok] == [], f"seed {seed}"
    assert {
        "kill -9 worker",
        "rabbitmq stop_app",
        "dynamodb local stopped",
        "paper guard: live account",
    } <= set(kinds)
