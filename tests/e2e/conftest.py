"""The real stack for end-to-end tests: worker processes over RabbitMQ, DynamoDB Local and an OTLP sink."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from telemetry.otlp_sink import OtlpSink
from tests.cli_zygote import CliZygote
from tests.e2e.stack import (
    CLI,
    OPERATOR,
    REPO_ROOT,
    SlackStack,
    Stack,
    kill_process,
    run_stack,
    start_ingress_process,
)


@pytest.fixture(scope="session", autouse=True)
def cli_zygote() -> Iterator[CliZygote]:
    """The session's operator commands (`stack.cli`) are forked from one process that imported them once."""
    zygote = CliZygote()
    CLI.zygote = zygote
    try:
        yield zygote
    finally:
        CLI.zygote = None
        zygote.close()


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
    yield from run_stack(env, spans, "workers.app:rabbitmq", worker_log)


@pytest.fixture
def duplicating_stack(stack_env: tuple[dict[str, str], Path]) -> Iterator[Stack]:
    """Workers that publish every stage's message twice."""
    env, spans = stack_env
    yield from run_stack(env, spans, "tests.e2e.duplicating_app:rabbitmq")


@pytest.fixture
def idle_stack(stack_env: tuple[dict[str, str], Path]) -> Iterator[Stack]:
    """The services without any worker: whatever is published stays in its queue."""
    env, spans = stack_env
    yield from run_stack(env, spans, None)


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
    for stack in run_stack(env, spans, "workers.app:rabbitmq"):
        stack.emulator = alpaca_emulator
        yield stack


@pytest.fixture
def alpaca_down_stack(stack_env: tuple[dict[str, str], Path]) -> Iterator[Stack]:
    """Alpaca enabled but unreachable (nothing listens at its URL): trades fall back to the simulation."""
    from workers.console.stack.ports import free_port

    env, spans = stack_env
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = {
        **env,
        "ALPACA_PAPER_ENABLED": "true",
        "ALPACA_PAPER_BASE_URL": f"{nowhere}/paper",
        "ALPACA_DATA_BASE_URL": nowhere,
        "TRADEFLOW_ALPACA_TIMEOUT_S": "1",
    }
    yield from run_stack(env, spans, "workers.app:rabbitmq")


@pytest.fixture
def slack_stack(
    stack_env: tuple[dict[str, str], Path], alpaca_emulator: Any, slack_emulator: Any, worker_log: Path | None
) -> Iterator[SlackStack]:
    """The whole flow from Slack's side: the ingress, workers notifying on Slack, trades on Alpaca."""
    from emulators.slack.driver import SlackDriver
    from workers.console.stack.ports import free_port

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
    ingresses: list[subprocess.Popen[bytes]] = []

    def start_ingress() -> None:  # while the worker process starts
        ingresses.append(start_ingress_process(env, port, Path(env["TRADEFLOW_DATA_DIR"]) / "ingress.log"))

    try:
        for stack in run_stack(env, spans, "workers.app:rabbitmq", worker_log, start_ingress):
            stack.emulator = alpaca_emulator
            driver = SlackDriver(
                f"http://127.0.0.1:{port}/slack/events",
                slack_emulator.signing_secret,
                slack_emulator,
                user_id="U123",
            )
            yield SlackStack(stack, slack_emulator, driver, ingresses[0])
    finally:
        for ingress in ingresses:
            kill_process(ingress)


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
