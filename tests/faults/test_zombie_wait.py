"""A node's VM killed -9 stays a zombie until it is reaped: the cluster waits for the reap itself, not a whole
startup timeout, before it boots the node again."""

from __future__ import annotations

import os
import subprocess
import time

from tests.faults.cluster import _alive_pid, _wait_reaped, _zombie


def test_a_killed_process_is_a_zombie_until_reaped_and_the_wait_ends_at_the_reap() -> None:
    child = subprocess.Popen(["sleep", "60"])
    child.kill()
    deadline = time.monotonic() + 5
    while not _zombie(child.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _zombie(child.pid) and _alive_pid(child.pid)  # kill(pid, 0) still answers for a zombie
    _wait_reaped(child.pid, 0.3)  # nobody reaps it: the wait gives up at its timeout
    assert _zombie(child.pid)
    os.waitpid(child.pid, 0)  # reaped (as PID 1 does for a detached node's VM)
    started = time.monotonic()
    _wait_reaped(child.pid, 30)
    assert time.monotonic() - started < 1 and not _zombie(child.pid) and not _alive_pid(child.pid)
