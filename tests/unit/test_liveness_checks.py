"""What the console makes of heartbeats: `tradeflow worker-alive` from the files, `health` from the store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from messages.records import Heartbeat
from workers.chain.liveness.files import HeartbeatFile
from workers.console.checks.alive import worker_alive
from workers.console.checks.liveness import heartbeats_detail, is_live, queue_liveness

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
NOT_RUNNING = 4_194_305  # above Linux's largest pid_max (2^22): never a running process


def beat(
    pid: int, seconds_ago: float, queues: tuple[str, ...] = ("validation",), host: str = "w1"
) -> Heartbeat:
    at = NOW - timedelta(seconds=seconds_ago)
    return Heartbeat(
        host=host, pid=pid, queues=queues, started_at=NOW - timedelta(hours=1), beat_at=at, interval_ms=15_000
    )


def aged_file(directory: Path, pid: int, seconds_ago: float) -> None:
    file = HeartbeatFile(directory, pid)
    file.touch()
    then = time.time() - seconds_ago
    os.utime(file.path, (then, then))


def test_a_process_is_live_for_three_of_its_intervals() -> None:
    assert is_live(beat(1, 45), NOW) and not is_live(beat(1, 46), NOW)


def test_a_queue_whose_consumers_all_beat_is_well() -> None:
    beats = [beat(1, 3, ("validation", "execution")), beat(2, 10, ("execution",))]
    problems, words, facts = queue_liveness("execution", 2, beats, NOW)
    assert problems == []
    assert words == "2 live process(es), last beat 3 s ago"
    assert facts["live_processes"] == 2 and facts["last_beat_age_s"] == 3.0
    assert [p["process_id"] for p in facts["processes"]] == ["w1:1", "w1:2"]


def test_a_consumer_without_a_live_heartbeat_is_flagged() -> None:
    assert queue_liveness("execution", 1, [], NOW)[0] == ["1 consumer(s) without a live heartbeat"]
    # a wedged process: its consumer is still registered, its beats stopped two minutes ago
    problems, _, facts = queue_liveness(
        "execution", 2, [beat(1, 2, ("execution",)), beat(2, 120, ("execution",))], NOW
    )
    assert problems == ["1 consumer(s) without a live heartbeat"]
    assert [p["live"] for p in facts["processes"]] == [True, False]


def test_a_process_that_beats_but_does_not_consume_is_flagged() -> None:
    problems, _, _ = queue_liveness("validation", 0, [beat(1, 2)], NOW)
    assert problems == ["1 live process(es) not consuming"]


def test_a_queue_nobody_beats_for_nor_consumes_has_no_liveness_problem() -> None:
    assert queue_liveness("sweeper", 0, [beat(1, 2)], NOW) == (
        [],
        "0 live process(es)",
        {"live_processes": 0, "last_beat_age_s": None, "processes": []},
    )


def test_the_heartbeats_line_names_the_silent_processes() -> None:
    line = heartbeats_detail([beat(1, 2), beat(2, 3, host="w2"), beat(3, 600)], NOW)
    assert line == "2 live worker process(es) on 2 host(s); silent: w1:3 (last beat 10 min ago)"


def test_worker_alive_when_every_running_process_beat_lately(tmp_path: Path) -> None:
    aged_file(tmp_path, os.getpid(), 5)
    aged_file(tmp_path, NOT_RUNNING, 3600)  # a process gone before the container restarted: left out
    alive, why = worker_alive(tmp_path, 60, time.time())
    assert alive, why


def test_worker_alive_fails_when_a_running_process_stopped_beating(tmp_path: Path) -> None:
    aged_file(tmp_path, os.getpid(), 5)
    aged_file(tmp_path, os.getppid(), 90)
    alive, why = worker_alive(tmp_path, 60, time.time())
    assert not alive and str(os.getppid()) in why


def test_worker_alive_fails_before_any_process_beat(tmp_path: Path) -> None:
    assert not worker_alive(tmp_path / "heartbeats", 60, time.time())[0]
    aged_file(tmp_path, NOT_RUNNING, 1)
    assert not worker_alive(tmp_path, 60, time.time())[0]


def test_the_worker_alive_command_exits_0_or_1(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEFLOW_")}
    env |= {"TRADEFLOW_DATA_DIR": str(tmp_path), "TRADEFLOW_HEARTBEAT_S": "1", "PYTHONPATH": str(REPO_ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "workers.console.main", "worker-alive", *args]
        return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    aged_file(tmp_path / "heartbeats", os.getpid(), 10)
    assert run().returncode == 1  # older than 4 x TRADEFLOW_HEARTBEAT_S
    done = run("--max-age", "30")
    assert done.returncode == 0, done.stdout + done.stderr
