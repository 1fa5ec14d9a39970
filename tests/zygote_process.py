"""The handle on a process the CLI zygote started (tests/cli_zygote.py), and the line its pid comes in."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time


class ZygoteProcess:
    """The handle `start` returns, with the part of `subprocess.Popen`'s the tests use: `pid`,
    `poll`, `wait`, `terminate`, `kill` and `returncode`.

    The process is the zygote's child, not ours: it has ended once its pid is gone (the zygote's kernel
    reaps it at once). Its code is what it sent before ending; one that sent none was killed (-9).
    """

    def __init__(self, pid: int, connection: socket.socket) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._connection = connection

    def poll(self) -> int | None:
        if self.returncode is None and not _alive(self.pid):
            self.returncode = self._code_sent()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["tradeflow"], timeout or 0)
            time.sleep(0.02)
        return code

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def _code_sent(self) -> int:
        self._connection.setblocking(False)
        try:
            lines = self._connection.recv(65536).splitlines()
        except (BlockingIOError, OSError):
            lines = []
        finally:
            self._connection.close()
        codes = [json.loads(line)["code"] for line in lines if b'"code"' in line]
        return int(codes[-1]) if codes else -signal.SIGKILL


def read_line(connection: socket.socket) -> bytes:
    """One line, read a byte at a time: what follows it (the exit code) stays for `ZygoteProcess`."""
    line = bytearray()
    while (byte := connection.recv(1)) not in (b"\n", b""):
        line += byte
    return bytes(line)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie has ended: the zygote's children never stay one, but be sure)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
