"""`tradeflow up` owns what it starts: nothing of it survives a kill -9, or a SIGTERM while it is starting."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import eventually
from workers.console.stack.children import STOP_GRACE_S
from workers.console.stack.ports import free_port
from workers.console.stack.up import port_open

REPO_ROOT = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # it ended while we looked
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    def running(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    return {pid for pid in pids if running(pid)}


@pytest.fixture
def up_env(tmp_path: Path, rabbitmq_url: str, queue_prefix: str) -> Iterator[dict[str, str]]:
    """A whole stack on free ports and its own queues; the memory store keeps Java out of it."""
    ours = ("TRADEFLOW_", "ALPACA_", "SLACK_", "AWS_", "RABBITMQ_", "OTEL_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    alpaca, slack = free_port(), free_port()
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        RABBITMQ_URL=rabbitmq_url,
        TRADEFLOW_QUEUE_PREFIX=queue_prefix,
        TRADEFLOW_STORE="memory",
        TRADEFLOW_DATA_DIR=str(tmp_path / "data"),
        ALPACA_PAPER_BASE_URL=f"http://127.0.0.1:{alpaca}/paper",
        ALPACA_DATA_BASE_URL=f"http://127.0.0.1:{alpaca}",
        SLACK_API_URL=f"http://127.0.0.1:{slack}/api/",
        TRADEFLOW_INGRESS_PORT=str(free_port()),
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",
    )
    yield env


def start_up(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workers.console.main", "up", "--json"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def test_a_kill_9_of_up_leaves_none_of_its_processes_running(up_env: dict[str, str]) -> None:
    up = start_up(up_env)
    assert up.stdout is not None
    parts = json.loads(up.stdout.readline())  # printed once everything is up
    assert parts["Workers"]["queues"]
    started = descendants(up.pid)
    assert len(started) >= 4  # two emulators, the workers (and their processes), the ingress
    up.kill()
    up.wait(10)
    # A worker finishes what it holds before it stops: bounded by dramatiq's own shutdown, not by us.
    with contextlib.suppress(AssertionError):  # what is left is named below
        eventually(lambda: not alive(started), timeout=90)
    left = {pid: _command_line(pid) for pid in alive(started)}
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert left == {}, f"still running 90 s after up was killed: {left}"


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()[:160].replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "(ended meanwhile)"


def test_a_sigterm_while_up_is_still_starting_stops_what_it_had_started(up_env: dict[str, str]) -> None:
    up = start_up(up_env)
    alpaca_port = int(up_env["ALPACA_DATA_BASE_URL"].rsplit(":", 1)[1])
    eventually(lambda: port_open("127.0.0.1", alpaca_port), timeout=30)  # its first child answers
    started = descendants(up.pid)
    assert started
    up.send_signal(signal.SIGTERM)
    # Two stages stop (the workers and ingress, then the services), each within one grace, then a kill.
    assert up.wait(2 * STOP_GRACE_S + 30) == 0
    eventually(lambda: not alive(started), timeout=30)
    assert not port_open("127.0.0.1", alpaca_port)
