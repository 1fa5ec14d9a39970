"""The stack `make up` runs, started on free loopback ports with its own queue and table prefixes: DynamoDB
Local, both emulators, the OTLP sink, the workers and the ingress. The benchmark and the fault campaign
share it.

For the benchmark the stock broker is the simulation with no delay (`alpaca=False`), so the figures are
tradeflow's and not the emulated market's; the fault campaign trades on the Alpaca emulator and keeps
DynamoDB Local's data on disk (`db_path`), so it can restart it. The Slack emulator's per-channel post limit
is raised, so Slack's one-message-a-second rule does not throttle a run (429s are injected on purpose).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

import pika

from telemetry.otlp_sink import OtlpSink
from workers.chain.rabbitmq import connect_rabbitmq
from workers.chain.routing import QUEUE_NAMES, STAGE_NAMES
from workers.console.stack.children import start_process, stop_processes
from workers.console.stack.children import stop_process as stop
from workers.console.stack.local_dynamodb import LocalDynamo, start_local_dynamodb
from workers.console.stack.ports import free_port
from workers.console.stack.services import ensure_rabbitmq, ensure_redis

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_APP = "workers.app:rabbitmq"


class Launcher(Protocol):
    """What starts tradeflow's own processes instead of a new interpreter each (the test session's zygote,
    tests/cli_zygote.py, forks them with tradeflow already imported)."""

    def start(self, args: Sequence[str], env: dict[str, str], cwd: Path, stdout: int, stderr: int) -> Any:
        """`tradeflow ARGS` in a session of its own on those descriptors; a `subprocess.Popen`-like handle."""

    def run(
        self, args: Sequence[str], env: dict[str, str], cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """`tradeflow ARGS` to its end, its output captured, as `subprocess.run` would."""


class LoopbackStack:
    """Everything but RabbitMQ (the machine's own), started here and stopped on `close()`. Its workers and
    operator commands are new interpreters, or forked by `launcher` when one is given."""

    def __init__(
        self,
        out_dir: Path,
        users: list[str],
        *,
        alpaca: bool = False,
        db_path: Path | None = None,
        extra_env: dict[str, str] | None = None,
        launcher: Launcher | None = None,
    ) -> None:
        self.launcher = launcher
        self.out_dir = out_dir
        self.users = users
        self.alpaca = alpaca
        self.db_path = db_path
        self.extra_env = extra_env or {}
        self.run_id = uuid.uuid4().hex[:8]
        self.prefix = f"bench{self.run_id}-"
        self._started = ExitStack()
        self.workers: dict[str, subprocess.Popen[bytes]] = {}  # "all" or a stage name → its process
        self.apps: dict[str, str] = {}
        self.dynamo: LocalDynamo | None = None
        self.env: dict[str, str] = {}

    def start(self) -> LoopbackStack:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        rabbitmq_url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
        ensure_rabbitmq(rabbitmq_url)
        ensure_redis(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))  # the Alpaca budget, shared
        self.dynamo_port = free_port()
        self.start_dynamodb()
        self._started.callback(self.stop_dynamodb)
        slack_port, alpaca_port, otlp_port = free_port(), free_port(), free_port()
        self.ingress_port = free_port()
        self.slack_origin = f"http://127.0.0.1:{slack_port}"
        self.alpaca_origin = f"http://127.0.0.1:{alpaca_port}"
        self.spans_path = self.out_dir / "spans.jsonl"
        self.spans_path.unlink(missing_ok=True)
        sink = OtlpSink(self.spans_path, port=otlp_port)
        sink.start()
        self._started.callback(sink.stop)
        self.env = {
            **os.environ,  # the shell's settings (the campaign's own, FAULT_SEED and FAULT_TRADES, are not
            # TRADEFLOW_*: tradeflow refuses a TRADEFLOW_* setting it does not know)
            "RABBITMQ_URL": rabbitmq_url,
            "TRADEFLOW_QUEUE_PREFIX": self.prefix,
            "DYNAMODB_TABLE_PREFIX": f"bench{self.run_id}",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{self.dynamo_port}",
            "ALPACA_PAPER_ENABLED": "true" if self.alpaca else "false",
            "ALPACA_PAPER_BASE_URL": f"{self.alpaca_origin}/paper",
            "ALPACA_DATA_BASE_URL": self.alpaca_origin,
            "TRADEFLOW_SIM_DELAY_MS": "0",
            "TRADEFLOW_NOTIFIER": "slack",
            "SLACK_API_URL": f"{self.slack_origin}/api/",
            "TRADEFLOW_INGRESS_PORT": str(self.ingress_port),
            "TRADEFLOW_TRADERS": ",".join(self.users),
            "TRADEFLOW_DATA_DIR": str(self.out_dir),
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
            "OTEL_METRICS_EXPORTER": "none",
            **self.extra_env,
        }
        alpaca = [sys.executable, "-m", "emulators.alpaca", "--host", "127.0.0.1", "--port", str(alpaca_port)]
        self._serve(alpaca, alpaca_port, "alpaca-emulator.log")
        slack = [
            sys.executable, "-m", "emulators.slack", "--host", "127.0.0.1", "--port", str(slack_port),
            "--post-burst", "100000", "--post-per-s", "100000",
        ]  # fmt: skip
        self._serve(slack, slack_port, "slack-emulator.log")
        self.ingress = self._serve(
            [sys.executable, "-m", "workers.console.main", "ingress"], self.ingress_port, "ingress.log"
        )
        return self

    def _serve(self, cmd: list[str], port: int, log: str) -> subprocess.Popen[bytes]:
        process = start_process(cmd, env=self.env, host="127.0.0.1", port=port, log=self.out_dir / log)
        self._started.callback(stop, process)
        return process

    def tradeflow_pids(self) -> tuple[set[int], set[int]]:
        """tradeflow's own processes: (the workers' process groups, each started in a session of its own;
        the ingress's pid)."""
        return {process.pid for process in self.workers.values()}, {self.ingress.pid}

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}/slack/events"

    def settings_env(self) -> dict[str, str]:
        """The stack's variables only, for `load_settings` in this process."""
        return {k: v for k, v in self.env.items() if k.isupper()}

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """`tradeflow ARGS` against this stack (its output captured, at most 120 s), `env` added."""
        if self.launcher is not None:
            return self.launcher.run(args, {**self.env, **env}, ROOT, timeout=120)
        return subprocess.run(
            [sys.executable, "-m", "workers.console.main", *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )

    # -- DynamoDB Local ---------------------------------------------------------------------------

    def start_dynamodb(self) -> None:
        self.dynamo = start_local_dynamodb(
            cache_dir=ROOT / ".cache", data_dir=self.db_path, port=self.dynamo_port, allow_moto=False
        )

    def stop_dynamodb(self) -> None:
        if self.dynamo is not None:
            self.dynamo.stop()
            self.dynamo = None

    # -- workers ----------------------------------------------------------------------------------

    def start_workers(self, processes: int, app: str = DEFAULT_APP) -> None:
        """(Re)start one worker for every stage with `processes` processes; wait until they consume."""
        self.stop_workers()
        self.workers["all"] = self._worker(["--processes", str(processes), "--app", app])
        wait_for_consumers(self.env, list(STAGE_NAMES), processes)

    def start_stage_workers(self, apps: dict[str, str]) -> None:
        """One single-process worker per stage and per service beside the chain (the sweeper, the alerts), as
        compose runs them, each with its dramatiq app."""
        self.stop_workers()
        self.apps = {name: apps.get(name, DEFAULT_APP) for name in QUEUE_NAMES}
        for name in QUEUE_NAMES:
            self.start_stage(name, wait=False)
        wait_for_consumers(self.env, list(QUEUE_NAMES), 1)

    def start_stage(self, stage: str, *, wait: bool = True) -> None:
        self.workers[stage] = self._worker(["--queues", stage, "--app", self.apps.get(stage, DEFAULT_APP)])
        if wait:
            wait_for_consumers(self.env, [stage], 1)

    def kill_stage(self, stage: str) -> None:
        """kill -9 the stage's worker: its main process and every process it forked, mid-message."""
        process = self.workers.pop(stage)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def _worker(self, args: list[str]) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "workers.console.main", "worker", *args]
        with (self.out_dir / "workers.log").open("ab") as log:
            if self.launcher is not None:
                handle: subprocess.Popen[bytes] = self.launcher.start(
                    ["worker", *args], self.env, ROOT, log.fileno(), log.fileno()
                )
                return handle
            return subprocess.Popen(
                cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
            )

    def stop_workers(self) -> None:
        """Every worker at once (one SIGTERM each, one shared grace): the slowest's shutdown, not the sum."""
        stop_processes(list(self.workers.values()))
        self.workers.clear()

    def close(self) -> None:
        self.stop_workers()
        self._started.close()
        if "RABBITMQ_URL" not in self.env:
            return  # it never started
        try:
            delete_queues(self.env["RABBITMQ_URL"], self.prefix)
        except pika.exceptions.AMQPError as exc:  # best effort: the run's own verdict matters more
            print(f"The stack's queues ({self.prefix}*) were not deleted: {exc!r}", file=sys.stderr)


def wait_for_consumers(env: dict[str, str], stages: list[str], count: int, timeout_s: float = 90) -> None:
    queues = [f"{env['TRADEFLOW_QUEUE_PREFIX']}{stage}" for stage in stages]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            counts = _consumer_counts(env["RABBITMQ_URL"], queues)
        except pika.exceptions.AMQPError:  # RabbitMQ is being restarted (a fault of the campaign): again
            time.sleep(0.5)
            continue
        if all(n >= count for n in counts):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{', '.join(stages)}: no {count} consumer(s) within {timeout_s}s")


def _consumer_counts(url: str, queues: list[str]) -> list[int]:
    connection = connect_rabbitmq(url)  # RABBITMQ_URL: one node, or a cluster's (the first that answers)
    try:
        return [_consumers(connection, queue) for queue in queues]
    finally:
        if connection.is_open:
            connection.close()


def _consumers(connection: pika.BlockingConnection, queue: str) -> int:
    channel = connection.channel()
    try:
        return int(channel.queue_declare(queue, passive=True).method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        if channel.is_open:
            channel.close()


def delete_queues(url: str, prefix: str) -> None:
    """Delete the queues a stack under `prefix` declares (each stage's, with its .DQ and .XQ), on the RabbitMQ
    `url` names: over one AMQP connection, not a `rabbitmqctl` (an Erlang VM's start) per queue."""
    connection = connect_rabbitmq(url, heartbeat=0)
    try:
        channel = connection.channel()
        for name in QUEUE_NAMES:
            for suffix in ("", ".DQ", ".XQ"):
                channel.queue_delete(f"{prefix}{name}{suffix}")
    finally:
        if connection.is_open:
            connection.close()
