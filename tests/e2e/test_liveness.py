"""A running worker's heartbeat, as `tradeflow health --json` and `tradeflow worker-alive` see it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import Stack, run_stack, stop_workers
from tests.waiting import eventually
from workers.chain.routing import QUEUE_NAMES

pytestmark = pytest.mark.e2e


@pytest.fixture
def beating_stack(stack_env: tuple[dict[str, str], Path]) -> Iterator[Stack]:
    """One worker process on every queue, beating twice a second."""
    env, spans = stack_env
    yield from run_stack({**env, "TRADEFLOW_HEARTBEAT_S": "0.5"}, spans, "workers.app:rabbitmq")


def health(stack: Stack) -> dict[str, dict[str, Any]]:
    done = stack.cli("health", "--json")
    return {check["name"]: check for check in json.loads(done.stdout)["checks"]}


def test_a_running_workers_heartbeat_shows_in_health_until_it_stops(beating_stack: Stack) -> None:
    stack = beating_stack
    first = eventually(lambda: stack.store_call(lambda store: store.list_heartbeats()), timeout=30)
    assert len(first) == 1 and first[0].queues == tuple(sorted(stack.queue(q) for q in QUEUE_NAMES))
    eventually(lambda: stack.store_call(lambda store: store.list_heartbeats())[0].beat_at > first[0].beat_at)

    checks = health(stack)
    for queue in QUEUE_NAMES:
        check = checks[f"queue {stack.queue(queue)}"]
        assert check["data"]["consumers"] == 1 and check["data"]["live_processes"] == 1, check
        assert check["data"]["last_beat_age_s"] < 5 and "heartbeat" not in check["detail"], check
    (process,) = checks["heartbeats"]["data"]["processes"]
    assert process["live"] and process["process_id"] == first[0].process_id and process["role"] == "worker"
    assert stack.cli("worker-alive").returncode == 0

    stop_workers(stack)  # a clean stop forgets its beat and removes its file
    assert checks_after_stop(stack)["heartbeats"]["data"]["processes"] == []
    assert stack.cli("worker-alive").returncode == 1


def checks_after_stop(stack: Stack) -> dict[str, dict[str, Any]]:
    checks = health(stack)
    for queue in QUEUE_NAMES:
        assert checks[f"queue {stack.queue(queue)}"]["data"]["live_processes"] == 0
    return checks
