"""WorkerHeartbeat: the dramatiq middleware that makes each worker process beat from boot to shutdown."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.common import q_name

from messages.records import Heartbeat
from workers.chain.liveness.beating import Beating, utc_now
from workers.chain.liveness.files import HeartbeatFile, heartbeat_dir, remove_dead
from workers.store.heartbeats_port import Heartbeats


class WorkerHeartbeat(dramatiq.Middleware):
    """Beats every `interval_s` once the worker has booted, and stops (forgetting its beat) at shutdown.

    Put it before the Runtime middleware: its shutdown hook must run while the store is still open.
    """

    def __init__(self, interval_s: float, data_dir: Path, store: Callable[[], Heartbeats | None]) -> None:
        self.interval_s = interval_s
        self.directory = heartbeat_dir(data_dir)
        self._store = store
        self.beating: Beating | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        loop = _loop()
        now, pid = utc_now(), os.getpid()
        process = Heartbeat(
            host=socket.gethostname(),
            pid=pid,
            role="worker",
            queues=tuple(sorted(queue for queue in worker.consumers if queue == q_name(queue))),
            started_at=now,
            beat_at=now,
            interval_ms=max(1, round(self.interval_s * 1000)),
            version=_version(),
        )
        threads = [*worker.consumers.values(), *worker.workers]  # dramatiq starts them all at boot
        remove_dead(self.directory)
        self.beating = Beating(
            process,
            store=self._store,
            file=HeartbeatFile(self.directory, pid),
            healthy=lambda: all(thread.is_alive() for thread in threads),
        )
        loop.run_coroutine(self.beating.start())

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.beating is not None:
            _loop().run_coroutine(self.beating.stop())
            self.beating = None


def _loop() -> Any:
    loop = get_event_loop_thread()
    if loop is None:
        raise RuntimeError("dramatiq's AsyncIO middleware must come before the WorkerHeartbeat middleware")
    return loop


def _version() -> str:
    try:
        return version("tradeflow")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
