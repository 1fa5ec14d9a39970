"""`tradeflow health` over the real stack: healthy when all is up, non-zero and specific when not."""

from __future__ import annotations

import json

import pytest

from tests.e2e.stack import SlackStack, stop_workers

pytestmark = pytest.mark.e2e


def test_health_is_green_with_everything_up_and_names_what_breaks(slack_stack: SlackStack) -> None:
    stack = slack_stack.stack
    done = stack.cli("health", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0, report
    names = {c["name"]: c for c in report["checks"]}
    assert names["alpaca"]["data"]["paper_guard"] == "passed"
    assert names["dynamodb"]["ok"] and names["slack"]["ok"] and names["rabbitmq"]["ok"]
    assert all(
        names[f"queue {stack.queue(s)}"]["data"]["consumers"] >= 1
        for s in ("validation", "persistence", "execution", "positions", "notifications")
    )

    stop_workers(stack)
    down = stack.cli("health", "--json")
    assert down.returncode == 1
    failing = [c for c in json.loads(down.stdout)["checks"] if not c["ok"]]
    assert failing and all("no consumers" in c["detail"] for c in failing)


def test_a_failing_paper_guard_makes_health_fail(slack_stack: SlackStack) -> None:
    stack = slack_stack.stack
    env = {**stack.env, "TRADEFLOW_ENV": "production"}
    import subprocess
    import sys

    from tests.e2e.stack import REPO_ROOT

    done = subprocess.run(
        [sys.executable, "-m", "workers.console.main", "health", "--json"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    alpaca = next(c for c in json.loads(done.stdout)["checks"] if c["name"] == "alpaca")
    assert not alpaca["ok"] and "production" in alpaca["detail"]
