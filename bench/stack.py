"""The stack `make up` runs, started for the benchmark: DynamoDB Local `-inMemory`, both emulators, the
OTLP sink, the workers and the ingress, on free loopback ports, with its own queue and table prefixes.

The stock broker is the simulation with no delay (ALPACA_PAPER_ENABLED=false, TRADEFLOW_SIM_DELAY_MS=0), so
the figures are tradeflow's and not the emulated market's. The Slack emulator's per-channel post limit is
raised, so Slack's one-message-a-second rule does not throttle the run either.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from telemetry.otlp_sink import OtlpSink
from workers.ops.up import ensure_rabbitmq, start_process
from workers.store.local import start_local_dynamodb

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BenchStack:
    """Everything but RabbitMQ (the machine's own), started here and stopped on `close()`."""

    def __init__(self, out_dir: Path, users: list[str]) -> None:
        self.out_dir = out_dir
        self.run_id = uuid.uuid4().hex[:8]
        self.prefix = f"bench{self.run_id}-"
        self.users = users
        self._started = ExitStack()
        self.workers: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}

    def start(self) -> BenchStack:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        rabbitmq_url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
        ensure_rabbitmq(rabbitmq_url)
        dynamo = start_local_dynamodb(
            cache_dir=ROOT / ".cache", data_dir=None, port=free_port(), allow_moto=False
        )
        self._started.callback(dynamo.stop)
        self.dynamodb_url = dynamo.endpoint_url
        slack_port, alpaca_port, otlp_port = free_port(), free_port(), free_port()
        self.ingress_port = free_port()
        self.slack_admin = f"http://127.0.0.1:{slack_port}"
        self.spans_path = self.out_dir / "spans.jsonl"
        self.spans_path.unlink(missing_ok=True)
        sink = OtlpSink(self.spans_path, port=otlp_port)
        sink.start()
        self._started.callback(sink.stop)
        self.env = {
            **os.environ,
            "RABBITMQ_URL": rabbitmq_url,
            "TRADEFLOW_QUEUE_PREFIX": self.prefix,
            "DYNAMODB_TABLE_PREFIX": f"bench{self.run_id}",
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_url,
            "ALPACA_PAPER_ENABLED": "false",
            "ALPACA_PAPER_BASE_URL": f"http://127.0.0.1:{alpaca_port}/paper",
            "ALPACA_DATA_BASE_URL": f"http://127.0.0.1:{alpaca_port}",
            "TRADEFLOW_SIM_DELAY_MS": "0",
            "TRADEFLOW_NOTIFIER": "slack",
            "SLACK_API_URL": f"{self.slack_admin}/api/",
            "TRADEFLOW_INGRESS_PORT": str(self.ingress_port),
            "TRADEFLOW_TRADERS": ",".join(self.users),
            "TRADEFLOW_DATA_DIR": str(self.out_dir),
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
            "OTEL_METRICS_EXPORTER": "none",
        }
        alpaca = [sys.executable, "-m", "emulators.alpaca", "--host", "127.0.0.1", "--port", str(alpaca_port)]
        self._serve(alpaca, alpaca_port, "alpaca-emulator.log")
        slack = [
            sys.executable, "-m", "emulators.slack", "--host", "127.0.0.1", "--port", str(slack_port),
            "--post-burst", "100000", "--post-per-s", "100000",
        ]  # fmt: skip
        self._serve(slack, slack_port, "slack-emulator.log")
        self._serve([sys.executable, "-m", "workers.cli", "ingress"], self.ingress_port, "ingress.log")
        return self

    def _serve(self, cmd: list[str], port: int, log: str) -> None:
        process = start_process(cmd, env=self.env, host="127.0.0.1", port=port, log=self.out_dir / log)
        self._started.callback(_stop, process)

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}/slack/events"

    def start_workers(self, processes: int) -> None:
        """(Re)start the workers with `processes` processes; wait until each stage queue has its consumers."""
        self.stop_workers()
        cmd = [sys.executable, "-m", "workers.cli", "worker", "--processes", str(processes)]
        log = (self.out_dir / "workers.log").open("ab")
        self.workers = subprocess.Popen(
            cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
        )
        log.close()
        _wait_for_consumers(self.env, processes)

    def stop_workers(self) -> None:
        if self.workers is not None:
            _stop(self.workers)
            self.workers = None

    def close(self) -> None:
        self.stop_workers()
        self._started.close()
        _delete_queues(self.prefix)


def _wait_for_consumers(env: dict[str, str], processes: int, timeout_s: float = 90) -> None:
    import pika

    from workers.routing import STAGE_NAMES

    queues = [f"{env['TRADEFLOW_QUEUE_PREFIX']}{stage}" for stage in STAGE_NAMES]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        connection = pika.BlockingConnection(pika.URLParameters(env["RABBITMQ_URL"]))
        try:
            counts = [_consumers(connection, queue) for queue in queues]
        finally:
            connection.close()
        if all(count >= processes for count in counts):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the workers did not start consuming within {timeout_s}s")


def _consumers(connection: object, queue: str) -> int:
    import pika

    assert isinstance(connection, pika.BlockingConnection)
    channel = connection.channel()
    try:
        return int(channel.queue_declare(queue, passive=True).method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        if channel.is_open:
            channel.close()


def _stop(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # only the main process: dramatiq forwards it to its children
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _delete_queues(prefix: str) -> None:
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "name"], capture_output=True, text=True, check=False
    )
    for name in listed.stdout.split():
        if name.startswith(prefix):
            subprocess.run(["rabbitmqctl", "-q", "delete_queue", name], capture_output=True, check=False)
