"""The end-to-end stack's parts: worker processes over RabbitMQ, DynamoDB Local and an OTLP sink, and the
handles tests hold on them (conftest.py composes them into fixtures)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fixtures_rabbitmq import QueueReader
from tests.waiting import eventually
from workers.settings import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
OPERATOR = "OPS1"  # an admin and an operator in every stack, and TRADEFLOW_OPERATOR


@dataclass
class Stack:
    env: dict[str, str]
    settings: Settings
    spans_path: Path
    outbox: Path
    queues: QueueReader
    workers: list[subprocess.Popen[bytes]]
    emulator: Any = None  # the Alpaca emulator the workers trade on, when they do

    def cli(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "workers.console.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
        )

    def store_call(self, work: Callable[[Any], Any]) -> Any:
        from workers.bootstrap import open_store

        async def run() -> Any:
            store = await open_store(self.settings)
            try:
                return await work(store)
            finally:
                await store.close()

        return asyncio.run(run())

    def queue(self, stage: str) -> str:
        return self.settings.queue(stage)


def start_workers(env: dict[str, str], app: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "workers.console.main",
        "worker",
        "--app",
        app,
        "--processes",
        "1",
        "--threads",
        "4",
    ]
    if log is None:
        return subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, start_new_session=True)
    with log.open("ab") as stderr:
        return subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, start_new_session=True, stderr=stderr)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # dramatiq's main process forwards it; a second signal makes it kill
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def stop_workers(stack: Stack) -> None:
    for process in stack.workers:
        stop_process(process)
    stack.workers.clear()


def restart_workers(stack: Stack, app: str = "workers.app:rabbitmq") -> None:
    stop_workers(stack)
    stack.workers.append(start_workers(stack.env, app))
    wait_for_consumers(stack.queues, stack.settings)


def wait_for_consumers(queues: QueueReader, settings: Settings) -> None:
    from workers.chain.routing import STAGE_NAMES

    eventually(lambda: all(queues.consumers(settings.queue(s)) for s in STAGE_NAMES), timeout=60)


def make_operator(settings: Settings) -> None:
    """OPERATOR, the seeded admin, grants itself the operator role, as a deployment's first admin would."""
    from workers.access.journal import Journal
    from workers.access.roles import grant, seed_from_settings
    from workers.bootstrap import open_store

    async def run() -> None:
        store = await open_store(settings)
        try:
            journal = Journal(store, settings.tradeflow_audit_retention_days)
            await seed_from_settings(store, journal, settings)
            await grant(store, journal, OPERATOR, ["operator"], by=OPERATOR)
        finally:
            await store.close()

    asyncio.run(run())


def run_stack(
    env: dict[str, str], spans: Path, app: str | None, worker_log: Path | None = None
) -> Iterator[Stack]:
    """A stack on `env`: its operator made, a worker process on `app` (None: no workers) consuming every
    stage; stopped when the generator closes."""
    settings = load_settings(env)
    make_operator(settings)
    queues = QueueReader(env["RABBITMQ_URL"])
    workers = [start_workers(env, app, worker_log)] if app else []
    try:
        if workers:  # ready when every stage queue has a consumer
            wait_for_consumers(queues, settings)
        yield Stack(
            env, settings, spans, Path(env["TRADEFLOW_DATA_DIR"]) / "notifications.log", queues, workers
        )
    finally:
        for process in workers:
            stop_process(process)
        queues.close()


@dataclass
class SlackStack:
    stack: Stack
    slack: Any  # the Slack emulator
    driver: Any  # Slack's side: signed requests to the ingress
    ingress: subprocess.Popen[bytes]
