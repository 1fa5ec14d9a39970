"""Beating: a process's heartbeat, every interval until it stops, into its heartbeat file and the store.

It runs on the event loop the stage handlers run on, so a beat also says that loop still turns. The file is
touched first and on its own: a store that is down or slow delays neither it nor the worker. A beat that
cannot reach the store is logged (once, and again when beats get through), never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from messages.records import Heartbeat
from workers.chain.liveness.files import HeartbeatFile
from workers.store.heartbeats_port import Heartbeats

logger = logging.getLogger("tradeflow.heartbeat")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Beating:
    """Beats as `process` (its beat_at is replaced at each beat) until `stop`.

    `store` gives the process's store, or None while it is not open; `healthy` says whether the process's
    own threads still run (else the file is left to age, and the container's healthcheck fails).
    """

    def __init__(
        self,
        process: Heartbeat,
        *,
        store: Callable[[], Heartbeats | None],
        file: HeartbeatFile,
        healthy: Callable[[], bool] = lambda: True,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.process = process
        self.interval_s = process.interval_ms / 1000
        self._store = store
        self._file = file
        self._healthy = healthy
        self._clock = clock
        self._failing = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def beat_once(self) -> None:
        if not self._healthy():
            logger.error("A worker thread of this process has stopped: its heartbeat file is left to age")
        else:
            try:
                self._file.touch()
            except OSError as exc:
                logger.error("Could not touch the heartbeat file %s: %s", self._file.path, exc)
        store = self._store()
        if store is None:
            self._missed("its store is not open yet")
            return
        try:
            # Bounded, so a slow store delays the next touch of the file by one interval at most.
            await asyncio.wait_for(store.beat(self.beat()), self.interval_s)
        except Exception as exc:
            self._missed(f"{type(exc).__name__}: {exc}")
            return
        if self._failing:
            self._failing = False
            logger.info("Heartbeats reach the store again")

    def beat(self) -> Heartbeat:
        return msgspec.structs.replace(self.process, beat_at=self._clock())

    async def start(self) -> None:
        """Beat now, then every interval, in a task of the running loop (returns at once)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="tradeflow-heartbeat")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop beating, remove the file, and forget the process's heartbeat in the store within timeout_s."""
        if self._task is not None:
            self._stopping = True
            # Cancel until it ends: Python 3.11's wait_for can swallow a cancel that meets its inner await
            # finishing (gh-86296), and the loop would then beat on while this waits for it forever (a
            # unit test hung here for an hour); the flag ends the loop at its next turn either way.
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=0.1)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._file.remove()
        store = self._store()
        if store is None:
            return
        try:
            await asyncio.wait_for(store.forget_heartbeat(self.process.process_id), timeout_s)
        except Exception as exc:  # its beat then ages in the store, and a day later it is dropped
            logger.warning("Could not forget this process's heartbeat: %s: %s", type(exc).__name__, exc)

    async def _run(self) -> None:
        while not self._stopping:
            await self.beat_once()
            await asyncio.sleep(self.interval_s)

    def _missed(self, reason: str) -> None:
        if not self._failing:
            logger.warning("Heartbeat not recorded in the store (%s); the worker carries on", reason)
        else:
            logger.debug("Heartbeat not recorded in the store (%s)", reason)
        self._failing = True
