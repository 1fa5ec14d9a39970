"""The real stack for end-to-end tests: worker processes over RabbitMQ, DynamoDB Local and an OTLP sink."""

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

import pytest

from telemetry.otlp_sink import OtlpSink
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
            [sys.executable, "-m", "workers.cli", *args],
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


@pytest.fixture
def stack_env(
    tmp_path: Path, rabbitmq_url: str, dynamodb_local_endpoint: str, queue_prefix: str, table_prefix: str
) -> Iterator[tuple[dict[str, str], Path]]:
    spans = tmp_path / "spans.jsonl"
    with OtlpSink(spans) as sink:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEFLOW_", "OTEL_"))}
        env.update(
            RABBITMQ_URL=rabbitmq_url,
            AWS_ENDPOINT_URL_DYNAMODB=dynamodb_local_endpoint,
            DYNAMODB_TABLE_PREFIX=table_prefix,
            TRADEFLOW_QUEUE_PREFIX=queue_prefix,
            TRADEFLOW_DATA_DIR=str(tmp_path),
            TRADEFLOW_SIM_DELAY_MS="0",
            ALPACA_PAPER_ENABLED="false",
            TRADEFLOW_NOTIFIER="log",
            TRADEFLOW_MIN_BACKOFF_MS="50",
            TRADEFLOW_MAX_BACKOFF_MS="200",
            TRADEFLOW_MAX_RETRIES="2",
            TRADEFLOW_TRADERS="U123,U456",
            TRADEFLOW_ADMINS=OPERATOR,
            TRADEFLOW_OPERATOR=OPERATOR,  # `stack.cli` runs every operator command as OPERATOR
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT=sink.endpoint,
            OTEL_BSP_SCHEDULE_DELAY="100",
            PYTHONPATH=str(REPO_ROOT),
        )
        yield env, spans


def _start_workers(env: dict[str, str], app: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "workers.cli", "worker", "--app", app, "--processes", "1", "--threads", "4"]
    if log is None:
        return subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, start_new_session=True)
    with log.open("ab") as stderr:
        return subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, start_new_session=True, stderr=stderr)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # dramatiq's main process forwards it; a second signal makes it kill
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def stop_workers(stack: Stack) -> None:
    for process in stack.workers:
        _stop(process)
    stack.workers.clear()


def restart_workers(stack: Stack, app: str = "workers.app:rabbitmq") -> None:
    stop_workers(stack)
    stack.workers.append(_start_workers(stack.env, app))
    _wait_for_consumers(stack.queues, stack.settings)


def _wait_for_consumers(queues: QueueReader, settings: Settings) -> None:
    from workers.routing import STAGE_NAMES

    eventually(lambda: all(queues.consumers(settings.queue(s)) for s in STAGE_NAMES), timeout=60)


def _make_operator(settings: Settings) -> None:
    """OPERATOR, the seeded admin, grants itself the operator role, as a deployment's first admin would."""
    from workers.access import grant, seed_from_settings
    from workers.bootstrap import open_store
    from workers.journal import Journal

    async def run() -> None:
        store = await open_store(settings)
        try:
            journal = Journal(store, settings.tradeflow_audit_retention_days)
            await seed_from_settings(store, journal, settings)
            await grant(store, journal, OPERATOR, ["operator"], by=OPERATOR)
        finally:
            await store.close()

    asyncio.run(run())


def _stack(
    env: dict[str, str], spans: Path, app: str | None, worker_log: Path | None = None
) -> Iterator[Stack]:
    settings = load_settings(env)
    _make_operator(settings)
    queues = QueueReader(env["RABBITMQ_URL"])
    workers = [_start_workers(env, app, worker_log)] if app else []
    try:
        if workers:  # ready when every stage queue has a consumer
            _wait_for_consumers(queues, settings)
        yield Stack(
            env, settings, spans, Path(env["TRADEFLOW_DATA_DIR"]) / "notifications.log", queues, workers
        )
    finally:
        for process in workers:
            _stop(process)
        queues.close()


@pytest.fixture
def worker_log() -> Path | None:
    """Where `stack`'s worker process writes its stderr (its logs); None: the test's own stderr.

    Override it in a test module to read the worker's logs.
    """
    return None


@pytest.fixture
def stack(stack_env: tuple[dict[str, str], Path], worker_log: Path | None) -> Iterator[Stack]:
    """One worker process running the five stages, in its own process."""
    env, spans = stack_env
    yield from _stack(env, spans, "workers.app:rabbitmq", worker_log)


@pytest.fixture
def duplicating_stack(stack_env: tuple[dict[str, str], Path]) -> Iterator[Stack]:
    """Workers that publish every stage's message twice."""
    env, spans = stack_env
    yield from _stack(env, spans, "tests.e2e.duplicating_app:rabbitmq")


@pytest.fixture
def idle_stack(stack_env: tuple[dict[str, str], Path]) -> Iterator[Stack]:
    """The services without any worker: whatever is published stays in its queue."""
    env, spans = stack_env
    yield from _stack(env, spans, None)


@pytest.fixture
def alpaca_stack(stack_env: tuple[dict[str, str], Path], alpaca_emulator: Any) -> Iterator[Stack]:
    """Workers that execute on the Alpaca emulator (the simulation only as its fallback)."""
    yield from _alpaca_stack(stack_env, alpaca_emulator)


@pytest.fixture
def alpaca_polling_stack(stack_env: tuple[dict[str, str], Path], alpaca_emulator: Any) -> Iterator[Stack]:
    """As alpaca_stack, without the trade_updates stream: nothing settles a resting order by itself."""
    yield from _alpaca_stack(stack_env, alpaca_emulator, TRADEFLOW_ALPACA_STREAM="false")


@pytest.fixture
def alpaca_sweeping_stack(stack_env: tuple[dict[str, str], Path], alpaca_emulator: Any) -> Iterator[Stack]:
    """As alpaca_polling_stack, with the sweeper looking for stuck trades every second."""
    yield from _alpaca_stack(
        stack_env, alpaca_emulator, TRADEFLOW_ALPACA_STREAM="false", TRADEFLOW_SWEEP_INTERVAL_S="1"
    )


def _alpaca_stack(
    stack_env: tuple[dict[str, str], Path], alpaca_emulator: Any, **extra: str
) -> Iterator[Stack]:
    env, spans = stack_env
    env = {
        **extra,
        **env,
        **alpaca_emulator.environment(),
        "ALPACA_PAPER_ENABLED": "true",
        "TRADEFLOW_FILL_TIMEOUT_S": "5",
    }
    for stack in _stack(env, spans, "workers.app:rabbitmq"):
        stack.emulator = alpaca_emulator
        yield stack


@pytest.fixture
def alpaca_down_stack(stack_env: tuple[dict[str, str], Path]) -> Iterator[Stack]:
    """Alpaca enabled but unreachable (nothing listens at its URL): trades fall back to the simulation."""
    from workers.store.local import free_port

    env, spans = stack_env
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = {
        **env,
        "ALPACA_PAPER_ENABLED": "true",
        "ALPACA_PAPER_BASE_URL": f"{nowhere}/paper",
        "ALPACA_DATA_BASE_URL": nowhere,
        "TRADEFLOW_ALPACA_TIMEOUT_S": "1",
    }
    yield from _stack(env, spans, "workers.app:rabbitmq")


@dataclass
class SlackStack:
    stack: Stack
    slack: Any  # the Slack emulator
    driver: Any  # Slack's side: signed requests to the ingress
    ingress: subprocess.Popen[bytes]


@pytest.fixture
def slack_stack(
    stack_env: tuple[dict[str, str], Path], alpaca_emulator: Any, slack_emulator: Any, worker_log: Path | None
) -> Iterator[SlackStack]:
    """The whole flow from Slack's side: the ingress, workers notifying on Slack, trades on Alpaca."""
    from emulators.slack.driver import SlackDriver
    from workers.ops.up import start_process
    from workers.store.local import free_port

    env, spans = stack_env
    port = free_port()
    env = {
        **env,
        **alpaca_emulator.environment(),
        **slack_emulator.environment(),
        "ALPACA_PAPER_ENABLED": "true",
        "TRADEFLOW_NOTIFIER": "slack",
        "TRADEFLOW_INGRESS_PORT": str(port),
        "TRADEFLOW_FILL_TIMEOUT_S": "5",
    }
    ingress = start_process(
        [sys.executable, "-m", "workers.cli", "ingress"],
        env=env,
        host="127.0.0.1",
        port=port,
        log=Path(env["TRADEFLOW_DATA_DIR"]) / "ingress.log",
    )
    try:
        for stack in _stack(env, spans, "workers.app:rabbitmq", worker_log):
            stack.emulator = alpaca_emulator
            driver = SlackDriver(
                f"http://127.0.0.1:{port}/slack/events",
                slack_emulator.signing_secret,
                slack_emulator,
                user_id="U123",
            )
            yield SlackStack(stack, slack_emulator, driver, ingress)
    finally:
        _stop(ingress)


@pytest.fixture
def own_dynamodb_local() -> Iterator[Any]:
    """A DynamoDB Local of this test's own (in memory), which the test may stop; the session's is shared."""
    from tests.fixtures_dynamo import started_dynamodb_local

    yield from started_dynamodb_local()


@pytest.fixture
def own_dynamodb_stack(
    stack_env: tuple[dict[str, str], Path], alpaca_emulator: Any, own_dynamodb_local: Any
) -> Iterator[Stack]:
    """As alpaca_stack, on `own_dynamodb_local`: stopping that takes the store away from this stack only."""
    env, spans = stack_env
    env = {**env, "AWS_ENDPOINT_URL_DYNAMODB": own_dynamodb_local.endpoint_url}
    yield from _alpaca_stack((env, spans), alpaca_emulator)
