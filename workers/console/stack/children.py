"""`up`'s children: started on loopback, stopped, and dying with it however it ends (Ctrl-C, SIGTERM, also
while it is still starting, or kill -9).

Each child runs in a session of its own (so a stop reaches everything it spawned, and a Ctrl-C in the
terminal reaches `up` alone, which then stops them in order), and asks the kernel for SIGTERM when `up`
dies (Linux's PR_SET_PDEATHSIG, kept across exec): a `kill -9` of `up` leaves no DynamoDB Local, emulator,
worker or ingress behind to consume the next stack's messages.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

PR_SET_PDEATHSIG = 1  # <sys/prctl.h>

_libc = (
    ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if sys.platform == "linux"
    else None
)


class StopRequested(Exception):
    """SIGTERM or SIGHUP reached `up`: unwind, stopping what was started, as Ctrl-C does."""


def die_with(parent_pid: int) -> Callable[[], None]:
    """A `preexec_fn` run in the child between fork and exec: SIGTERM when `parent_pid` dies."""
    prctl = _libc.prctl if _libc is not None else None

    def arrange() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before the request was in place
            os._exit(1)

    return arrange


def stop_on_termination() -> None:
    """Make SIGTERM and SIGHUP unwind `up` like Ctrl-C (KeyboardInterrupt) does, from the first moment."""

    def raise_stop(signum: int, frame: FrameType | None) -> None:
        for again in (signal.SIGTERM, signal.SIGHUP):  # a second one must not cut the stopping short
            signal.signal(again, signal.SIG_IGN)
        raise StopRequested(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, raise_stop)
    signal.signal(signal.SIGHUP, raise_stop)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def start_process(
    cmd: list[str], *, env: dict[str, str], host: str, port: int, log: Path, timeout_s: float = 30.0
) -> subprocess.Popen[bytes]:
    """Start a loopback server in its own session and wait until its port answers."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            cmd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with(os.getpid()),
        )
    deadline = time.monotonic() + timeout_s
    try:
        while not port_open(host, port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{' '.join(cmd[:3])} did not start on {host}:{port}; see {log}")
            time.sleep(0.1)
    except BaseException:  # it did not start, or `up` is stopping (Ctrl-C, SIGTERM) while it starts
        stop_process(process)
        raise
    return process


STOP_GRACE_S = 20.0  # dramatiq finishes what its threads hold; an emulator stops in about a second


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_GRACE_S) -> None:
    stop_processes([process], timeout)


def stop_processes(processes: list[subprocess.Popen[bytes]], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM to each at once, one shared grace for all, then SIGKILL to the group of each one left: stopping
    n children takes the slowest one's time, never the sum of theirs."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.terminate()  # dramatiq's main process forwards it; a second signal makes it kill
    deadline = time.monotonic() + grace_s
    for process in running:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class StoppedTogether:
    """Children stopped as one stage of `up`'s unwinding (`stop_processes`); `up` stops the stage that
    consumes (workers, ingress) before the stage it consumes from (emulators, alert servers)."""

    def __init__(self, grace_s: float = STOP_GRACE_S) -> None:
        self.grace_s = grace_s
        self.processes: list[subprocess.Popen[bytes]] = []

    def add(self, process: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.processes.append(process)
        return process

    def stop(self) -> None:
        stop_processes(self.processes, self.grace_s)
