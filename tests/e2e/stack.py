"""The end-to-end stack's parts: worker processes over RabbitMQ, DynamoDB Local and an OTLP sink, and the
handles tests hold on them (conftest.py composes them into fixtures)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cli_zygote import CliZygote
from tests.fixtures_rabbitmq import QueueReader
from tests.waiting import eventually
from workers.settings import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
OPERATOR = "OPS1"  # an admin and an operator in every stack, and TRADEFLOW_OPERATOR


class StoreLoop:
    """One store for the test process, opened at its first use on an event loop of its own thread.

    A test that waits on the store looks at it many times: each look is then one request, not a new client
    with its table checks (which cost the workers the test waits for a share of the machine's two cores).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._store: Any = None

    def call(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        if self._loop is None:
            from workers.bootstrap import open_store

            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="stack-store", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
            self._store = asyncio.run_coroutine_threadsafe(open_store(self.settings), loop).result()

        async def run() -> Any:
            return await work(self._store)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    def close(self) -> None:
        loop, thread, store = self._loop, self._thread, self._store
        self._loop = self._thread = self._store = None
        if loop is None or thread is None:
            return
        try:
            if store is not None:
                asyncio.run_coroutine_threadsafe(store.close(), loop).result(timeout=30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
            loop.close()


@dataclass
class _Cli:
    zygote: CliZygote | None = None  # set for the session by tests/e2e/conftest.py


CLI = _Cli()


@dataclass
class Stack:
    env: dict[str, str]
    settings: Settings
    spans_path: Path
    outbox: Path
    queues: QueueReader
    workers: list[subprocess.Popen[bytes]]
    emulator: Any = None  # the Alpaca emulator the workers trade on, when they do
    store_loop: StoreLoop | None = field(default=None, repr=False)

    def cli(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        """`python -m workers.console.main ARGS` on the stack's environment: in a process forked from the
        session's CLI zygote when there is one (tests/cli_zygote.py), else started afresh."""
        if CLI.zygote is not None:
            return CLI.zygote.run(args, self.env, REPO_ROOT, timeout)
        return subprocess.run(
            [sys.executable, "-m", "workers.console.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
        )

    def store_call(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        """`await work(store)` on the stack's store (opened once, closed with the stack)."""
        if self.store_loop is None:
            self.store_loop = StoreLoop(self.settings)
        return self.store_loop.call(work)

    def trade_status(self, trade_id: object) -> str:
        """The trade's status in the store, "" while it has no record (what `trade show` would print)."""
        import uuid

        record = self.store_call(lambda store: store.get_trade(uuid.UUID(str(trade_id))))
        return str(record.status) if record is not None else ""

    def queue(self, stage: str) -> str:
        return self.settings.queue(stage)


def start_workers(env: dict[str, str], app: str, log: Path | None = None) -> Any:
    """`tradeflow worker` for every stage on `app`, in a session of its own (a `subprocess.Popen`, or the
    like forked from the session's zygote), its stderr to `log` or to the test's."""
    args = ["worker", "--app", app, "--processes", "1", "--threads", "4"]
    with contextlib.ExitStack() as files:
        stderr = files.enter_context(log.open("ab")) if log is not None else None
        if CLI.zygote is not None:
            # descriptors 1 and 2, as a Popen inherits them (pytest captures them there)
            return CLI.zygote.start(args, env, REPO_ROOT, 1, stderr.fileno() if stderr else 2)
        cmd = [sys.executable, "-m", "workers.console.main", *args]
        return subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, start_new_session=True, stderr=stderr)


def start_ingress_process(env: dict[str, str], port: int, log: Path) -> Any:
    """`tradeflow ingress` on `port` (forked from the session's zygote when there is one), its output to
    `log`; returned once the port answers."""
    from workers.console.stack.children import port_open, start_process

    if CLI.zygote is None:
        cmd = [sys.executable, "-m", "workers.console.main", "ingress"]
        return start_process(cmd, env=env, host="127.0.0.1", port=port, log=log)
    with log.open("ab") as out:
        process = CLI.zygote.start(["ingress"], env, REPO_ROOT, out.fileno(), out.fileno())
    eventually(lambda: port_open("127.0.0.1", port) or process.poll() is not None, timeout=30, interval=0.05)
    if process.poll() is not None:
        raise RuntimeError(f"the ingress did not start on port {port} (exit {process.returncode}); see {log}")
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a worker as an operator would: SIGTERM, and dramatiq's graceful shutdown (2-4 s)."""
    if process.poll() is None:
        process.terminate()  # dramatiq's main process forwards it; a second signal makes it kill
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kill_process(process: subprocess.Popen[bytes]) -> None:
    """End a process started in a session of its own, and everything it forked, at once (SIGKILL).

    For a fixture's teardown, once the test's assertions are done: its queues are the test's own and are
    deleted next, its tables are the test's own too, so nothing a graceful shutdown (2-4 s of dramatiq's)
    would finish is ever looked at again.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
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


def all_told(stack: Stack, trade_ids: Iterable[Any]) -> Callable[[], bool]:
    """A condition for `eventually`: every trade's trader told its outcome (the audit's notified item).

    Told stays told, so each look reads only the trades not yet seen told, in order, and stops at the first
    still untold: waiting for 200 trades reads each about once, where looking at all 200 every second sent
    DynamoDB Local 200 reads a second for the whole wait, CPU the workers being waited for went without.
    """
    from workers.handlers.audit import NOTIFIED_KEY

    pending = [uuid.UUID(str(trade_id)) for trade_id in trade_ids]

    async def look(store: Any) -> bool:
        while pending:
            if await store.get_audit(pending[0], NOTIFIED_KEY) is None:
                return False
            pending.pop(0)
        return True

    return lambda: bool(stack.store_call(look))


def make_operator(stack: Stack) -> None:
    """OPERATOR, the seeded admin, grants itself the operator role, as a deployment's first admin would."""
    from workers.access.journal import Journal
    from workers.access.roles import grant, seed_from_settings

    settings = stack.settings

    async def run(store: Any) -> None:
        journal = Journal(store, settings.tradeflow_audit_retention_days)
        await seed_from_settings(store, journal, settings)
        await grant(store, journal, OPERATOR, ["operator"], by=OPERATOR)

    stack.store_call(run)


def run_stack(
    env: dict[str, str],
    spans: Path,
    app: str | None,
    worker_log: Path | None = None,
    while_starting: Callable[[], None] | None = None,
) -> Iterator[Stack]:
    """A stack on `env`: its operator made, a worker process on `app` (None: no workers) consuming every
    stage; stopped when the generator closes. `while_starting` runs while the worker process starts (its
    start takes seconds, mostly Python's imports): start another process of the stack there."""
    settings = load_settings(env)
    queues = QueueReader(env["RABBITMQ_URL"])
    workers = [start_workers(env, app, worker_log)] if app else []
    outbox = Path(env["TRADEFLOW_DATA_DIR"]) / "notifications.log"
    stack = Stack(env, settings, spans, outbox, queues, workers)
    try:
        if while_starting is not None:
            while_starting()
        make_operator(stack)  # while the worker process starts
        if workers:  # ready when every stage queue has a consumer
            wait_for_consumers(queues, settings)
        yield stack
    finally:
        try:
            for process in workers:
                kill_process(process)
            workers.clear()
            if stack.store_loop is not None:
                stack.store_loop.close()
        finally:
            queues.close()


@dataclass
class SlackStack:
    stack: Stack
    slack: Any  # the Slack emulator
    driver: Any  # Slack's side: signed requests to the ingress
    ingress: subprocess.Popen[bytes]
