"""A worker process whose start fails after boot still exits: the event loop thread never holds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# What dramatiq's worker process does when worker.start() fails after the boot hooks ran (it returns
# without the shutdown hooks): boot the middleware, then leave.
BOOTED_THEN_LEFT = """
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO
from workers.chain.rabbitmq import DaemonAsyncIO

middleware = {kind}()
broker = StubBroker(middleware=[middleware])
middleware.before_worker_boot(broker, None)
"""


# (middleware, whether the process exits, how long to give it): the hang is shown by a short wait.
@pytest.mark.parametrize(("kind", "exits", "wait_s"), [("DaemonAsyncIO", True, 20), ("AsyncIO", False, 3)])
def test_a_worker_that_leaves_after_boot_exits_with_tradeflows_asyncio_only(
    kind: str, exits: bool, wait_s: float
) -> None:
    probe = [sys.executable, "-c", BOOTED_THEN_LEFT.format(kind=kind)]
    process = subprocess.Popen(probe, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        code = process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        code = None  # still waiting for its event loop thread: dramatiq's own AsyncIO hangs it forever
    finally:
        process.kill()
        process.wait()
    assert (code == 0) is exits
