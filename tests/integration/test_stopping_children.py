"""`up` stops a stage of its children at once: each gets SIGTERM before any grace is spent waiting, and one
that ignores it is killed with its whole group once the grace is over."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.waiting import eventually
from workers.console.stack.children import StoppedTogether

# Says "ready", then on SIGTERM writes whether the process named by argv[2] is still alive to argv[1], and
# keeps running when argv[3] is "stubborn" (so only SIGKILL ends it), else exits.
CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    out, other, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    def on_term(signum, frame):
        try:
            state = open(f"/proc/{other}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            state = "gone"
        open(out, "w").write("gone" if state in ("gone", "Z") else "alive")
        if mode != "stubborn":
            sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
    """
)


def start(tmp_path: Path, name: str, other: int, mode: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / name), str(other), mode],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    return process


def test_every_child_of_a_stage_hears_sigterm_before_a_stubborn_one_is_killed(tmp_path: Path) -> None:
    stubborn = start(tmp_path, "stubborn", other=1, mode="stubborn")
    polite = start(tmp_path, "polite", other=stubborn.pid, mode="polite")
    stage = StoppedTogether(grace_s=1.0)
    stage.add(stubborn)
    stage.add(polite)

    stage.stop()

    assert stubborn.returncode == -9  # it ignored SIGTERM: the grace ran out and its group was killed
    assert polite.returncode == 0
    eventually(lambda: (tmp_path / "polite").exists(), timeout=5)
    # The polite one was told while the stubborn one still lived: not one child's grace after another's.
    assert (tmp_path / "polite").read_text() == "alive"
    assert (tmp_path / "stubborn").exists()
