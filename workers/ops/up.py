"""`tradeflow up`: the embedded default stack on loopback; starts what is missing, stops what it started."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlparse

import pika

from workers.bootstrap import open_store
from workers.settings import Settings

OTLP_PORT = 4318


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_rabbitmq(url: str) -> None:
    """Connect to RabbitMQ; start the machine's own server when it is down and we can."""
    if _rabbitmq_answers(url):
        return
    if shutil.which("rabbitmq-server") is None:
        raise SystemExit(
            f"RabbitMQ is not reachable at {urlparse(url).hostname} and rabbitmq-server is not installed"
        )
    print("RabbitMQ is down; starting it (rabbitmq-server -detached)…", flush=True)
    subprocess.run(["rabbitmq-server", "-detached"], check=False)
    subprocess.run(["rabbitmqctl", "await_startup", "--timeout", "120"], check=False)
    if not _rabbitmq_answers(url):
        raise SystemExit("RabbitMQ did not come up")


def _rabbitmq_answers(url: str) -> bool:
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
        return True
    except Exception:
        return False


def run_stack(settings: Settings, *, processes: int = 1, threads: int | None = None) -> int:
    from telemetry.otlp_sink import OtlpSink
    from workers.store.local import start_local_dynamodb

    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    with ExitStack() as started:
        ensure_rabbitmq(settings.rabbitmq_url)
        print(f"RabbitMQ      {_redact(settings.rabbitmq_url)}", flush=True)

        endpoint = urlparse(settings.aws_endpoint_url_dynamodb or "")
        if settings.tradeflow_store == "dynamodb" and endpoint.hostname in ("127.0.0.1", "localhost"):
            port = endpoint.port or 8000
            if port_open(endpoint.hostname, port):
                print(f"DynamoDB      {settings.aws_endpoint_url_dynamodb} (already running)", flush=True)
            else:
                local = start_local_dynamodb(
                    cache_dir=Path(".cache").resolve(), data_dir=data_dir / "dynamodb", port=port
                )
                started.callback(local.stop)
                print(
                    f"DynamoDB      {local.endpoint_url} ({local.kind}, data in {data_dir / 'dynamodb'})",
                    flush=True,
                )

        if "OTEL_TRACES_EXPORTER" not in env:
            spans = data_dir / "spans.jsonl"
            env.update(
                OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{OTLP_PORT}"
            )
            if not port_open("127.0.0.1", OTLP_PORT):
                sink = OtlpSink(spans, port=OTLP_PORT)
                sink.start()
                started.callback(sink.stop)
            print(f"Traces        OTLP http://127.0.0.1:{OTLP_PORT} → {spans}", flush=True)

        asyncio.run(_create_tables(settings))
        cmd = [sys.executable, "-m", "workers.cli", "worker", "--processes", str(processes)]
        if threads:
            cmd += ["--threads", str(threads)]
        workers = subprocess.Popen(cmd, env=env, start_new_session=True)
        started.callback(_stop, workers)
        print(
            f"Workers       {processes} process(es) on queues {', '.join(_stage_queues(settings))}",
            flush=True,
        )
        print(f"Notifications {data_dir / 'notifications.log'}", flush=True)
        print("Try:          tradeflow submit --user U123 buy 10 AAPL --wait", flush=True)
        print("Ctrl-C stops everything started here.", flush=True)
        return _wait(workers)


async def _create_tables(settings: Settings) -> None:
    store = await open_store(settings)
    await store.close()


def _stage_queues(settings: Settings) -> list[str]:
    from workers.routing import STAGE_NAMES

    return [settings.queue(s) for s in STAGE_NAMES]


def _wait(workers: subprocess.Popen[bytes]) -> int:
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping:
        if workers.poll() is not None:
            print(f"workers exited with {workers.returncode}", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print("\nStopping…", flush=True)
    return 0


def _stop(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # dramatiq's main process forwards it; a second signal makes it kill
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _redact(url: str) -> str:
    parsed = urlparse(url)
    return url.replace(f":{parsed.password}@", ":***@") if parsed.password else url
