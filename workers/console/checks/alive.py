"""`tradeflow worker-alive`: do the worker processes on this host still beat? A container's healthcheck.

It reads only the heartbeat files (DATA_DIR/heartbeats/<pid>), never RabbitMQ or the store: a container is
restarted for its own processes, not for a service every container shares. The files of processes that no
longer run are left out (a restarted container keeps them), so one stale file means a process that runs
and no longer beats: its event loop or a worker thread is stuck.
"""

from __future__ import annotations

from pathlib import Path

from workers.chain.liveness.files import read_beat_files
from workers.console.checks.liveness import format_age


def worker_alive(directory: Path, max_age_s: float, now: float) -> tuple[bool, str]:
    """Whether at least one worker process beats here and every running one beat within max_age_s; why."""
    running = [beat for beat in read_beat_files(directory, now) if beat.running]
    if not running:
        return False, f"no running worker process has beaten into {directory}"
    stale = [beat for beat in running if beat.age_s > max_age_s]
    if stale:
        return False, "; ".join(
            f"worker process {beat.pid} last beat {format_age(beat.age_s)} ago "
            f"(more than {format_age(max_age_s)})"
            for beat in stale
        )
    oldest = max(beat.age_s for beat in running)
    return True, f"{len(running)} worker process(es) alive, the oldest beat {format_age(oldest)} ago"
