"""Each worker process's heartbeat file, DATA_DIR/heartbeats/<pid>: touched at every beat, its age read by
`tradeflow worker-alive` (a container's healthcheck) without RabbitMQ or the store."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def heartbeat_dir(data_dir: Path) -> Path:
    return data_dir / "heartbeats"


class HeartbeatFile:
    """One process's file: its modification time is the time of its last beat."""

    def __init__(self, directory: Path, pid: int) -> None:
        self.path = directory / str(pid)

    def touch(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class BeatFile:
    """What a heartbeat file says: whose it is, how long ago it was touched, whether that process runs."""

    pid: int
    age_s: float
    running: bool


def read_beat_files(directory: Path, now: float) -> list[BeatFile]:
    """Every heartbeat file in `directory`, by pid; `now` is the wall clock (time.time())."""
    found: list[BeatFile] = []
    for path in sorted(directory.glob("[0-9]*")):
        if not path.name.isdigit():
            continue
        try:
            touched = path.stat().st_mtime
        except FileNotFoundError:  # its process removed it as it stopped
            continue
        pid = int(path.name)
        found.append(BeatFile(pid=pid, age_s=max(0.0, now - touched), running=pid_running(pid)))
    return sorted(found, key=lambda beat: beat.pid)


def remove_dead(directory: Path) -> None:
    """Remove the files of processes that no longer run (a container restarted keeps its files)."""
    for beat in read_beat_files(directory, 0.0):
        if not beat.running:
            HeartbeatFile(directory, beat.pid).remove()


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, the kernel only checks the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
