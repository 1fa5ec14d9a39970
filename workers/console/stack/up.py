"""`tradeflow up`: the embedded default stack on loopback; starts what is missing, stops what it started."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from workers.bootstrap import open_store
from workers.console.stack.alert_servers import start_alert_servers
from workers.console.stack.children import (
    StoppedTogether,
    StopRequested,
    die_with,
    port_open,
    start_process,
    stop_on_termination,
)
from workers.console.stack.services import ensure_rabbitmq, ensure_redis, redact_url
from workers.settings import Settings

OTLP_PORT = 4318


class Report:
    """What `up` started, as aligned lines for a person or one JSON object (`--json`) for a program."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.parts: dict[str, dict[str, Any]] = {}

    def show(self, part: str, text: str, **detail: Any) -> None:
        self.parts[part] = {"summary": text, **detail}
        if not self.as_json:
            print(f"{part:<14}{text}", flush=True)

    def ready(self) -> None:
        if self.as_json:
            print(json.dumps(self.parts), flush=True)
        else:
            print("Try:          tradeflow submit --user U123 buy 10 AAPL --wait", flush=True)
            print("Ctrl-C stops everything started here.", flush=True)


def run_stack(
    settings: Settings, *, processes: int = 1, threads: int | None = None, as_json: bool = False
) -> int:
    """Start what is missing, report it, and wait; stop everything started, however `up` is stopped."""
    stop_on_termination()  # from here on a SIGTERM unwinds like Ctrl-C: whatever started is stopped
    try:
        return _run_stack(settings, processes=processes, threads=threads, as_json=as_json)
    except (KeyboardInterrupt, StopRequested):
        print("\nStopped.", file=sys.stderr, flush=True)
        return 0


def _run_stack(settings: Settings, *, processes: int, threads: int | None, as_json: bool) -> int:
    from telemetry.otlp_sink import OtlpSink
    from workers.console.stack.local_dynamodb import start_local_dynamodb

    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    report = Report(as_json)
    with ExitStack() as started:
        # Unwound in two stages, each child of a stage stopped at once: the workers and the ingress, then
        # the services they use (the emulators, the alert servers), so a stop takes two graces at most.
        services = StoppedTogether()
        started.callback(services.stop)
        ensure_rabbitmq(settings.rabbitmq_urls)
        nodes = [redact_url(url) for url in settings.rabbitmq_urls]
        report.show("RabbitMQ", ", ".join(nodes), url=",".join(nodes), nodes=nodes)
        if settings.alpaca_paper_enabled and settings.tradeflow_rate_limiter == "redis":
            # Left running when `up` stops, as RabbitMQ is: a machine service, not this stack's own.
            started_redis = ensure_redis(settings.redis_url)
            how = "started" if started_redis else "already running"
            report.show(
                "Redis",
                f"{redact_url(settings.redis_url)} (Alpaca's shared rate budget, {how})",
                url=redact_url(settings.redis_url),
                started=started_redis,
            )

        endpoint = urlparse(settings.aws_endpoint_url_dynamodb or "")
        if settings.tradeflow_store == "dynamodb" and endpoint.hostname in ("127.0.0.1", "localhost"):
            port = endpoint.port or 8000
            if port_open(endpoint.hostname, port):
                url = settings.aws_endpoint_url_dynamodb
                report.show("DynamoDB", f"{url} (already running)", url=url, started=False)
            else:
                local = start_local_dynamodb(
                    cache_dir=Path(".cache").resolve(), data_dir=data_dir / "dynamodb", port=port
                )
                started.callback(local.stop)
                report.show(
                    "DynamoDB",
                    f"{local.endpoint_url} ({local.kind}, data in {data_dir / 'dynamodb'})",
                    url=local.endpoint_url,
                    kind=local.kind,
                    started=True,
                )

        alpaca = urlparse(settings.alpaca_paper_base_url)
        if settings.alpaca_paper_enabled and alpaca.hostname in ("127.0.0.1", "localhost"):
            port = alpaca.port or 80
            if port_open(alpaca.hostname, port):
                report.show(
                    "Alpaca",
                    f"{settings.alpaca_paper_base_url} (already running)",
                    started=False,
                    url=settings.alpaca_paper_base_url,
                )
            else:
                # The desk's other accounts, each a paper account of its own there (in the environment, not
                # the command line, which any process listing shows).
                accounts = {**env, "ALPACA_EMULATOR_ACCOUNTS": _emulator_accounts(settings)}
                command = _emulator("emulators.alpaca", alpaca.hostname, port)
                log = data_dir / "alpaca-emulator.log"
                services.add(start_process(command, env=accounts, host=alpaca.hostname, port=port, log=log))
                report.show(
                    "Alpaca",
                    f"{settings.alpaca_paper_base_url} (emulator, paper; accounts "
                    f"{', '.join(settings.account_names)})",
                    started=True,
                    url=settings.alpaca_paper_base_url,
                    admin=f"http://{alpaca.hostname}:{port}/admin",
                )
        elif settings.alpaca_paper_enabled:
            report.show("Alpaca", settings.alpaca_paper_base_url, url=settings.alpaca_paper_base_url)
        else:
            report.show("Alpaca", "off (ALPACA_PAPER_ENABLED=false): trades are simulated", url=None)

        if "OTEL_TRACES_EXPORTER" not in env:
            spans = data_dir / "spans.jsonl"
            otlp_port = urlparse(env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")).port or OTLP_PORT
            otlp = f"http://127.0.0.1:{otlp_port}"
            env.update(OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=otlp)
            if port_open("127.0.0.1", otlp_port):
                report.show("Traces", f"OTLP {otlp} (already listening: Jaeger, or another sink)", url=otlp)
            else:
                upstream = traces_upstream(settings)
                sink = OtlpSink(spans, port=otlp_port, forward_to=upstream)
                sink.start()
                started.callback(sink.stop)
                also = f", forwarded to {upstream}" if upstream else ""
                report.show(
                    "Traces", f"OTLP {otlp} → {spans}{also}", url=otlp, file=str(spans), forward=upstream
                )

        slack = urlparse(settings.slack_api_url)
        if settings.tradeflow_notifier == "slack" and slack.hostname in ("127.0.0.1", "localhost"):
            port = slack.port or 80
            if port_open(slack.hostname, port):
                report.show(
                    "Slack",
                    f"{settings.slack_api_url} (already running)",
                    url=settings.slack_api_url,
                    started=False,
                )
            else:
                command = _emulator("emulators.slack", slack.hostname, port)
                log = data_dir / "slack-emulator.log"
                services.add(start_process(command, env=env, host=slack.hostname, port=port, log=log))
                report.show(
                    "Slack",
                    f"{settings.slack_api_url} (emulator)",
                    url=settings.slack_api_url,
                    started=True,
                    admin=f"http://{slack.hostname}:{port}/admin",
                )

        for part in start_alert_servers(settings, data_dir, env, services):  # email and SMS, on loopback
            report.show(part.part, part.summary, **part.detail)

        asyncio.run(_create_tables(settings))
        warn_of_foreign_consumers(settings)
        cmd = [sys.executable, "-m", "workers.console.main", "worker", "--processes", str(processes)]
        if threads:
            cmd += ["--threads", str(threads)]
        consumers = StoppedTogether()
        started.callback(consumers.stop)
        workers = consumers.add(
            subprocess.Popen(cmd, env=env, start_new_session=True, preexec_fn=die_with(os.getpid()))
        )
        host, port = settings.tradeflow_ingress_host, settings.tradeflow_ingress_port
        ingress = [sys.executable, "-m", "workers.console.main", "ingress"]
        consumers.add(start_process(ingress, env=env, host=host, port=port, log=data_dir / "ingress.log"))
        report.show("Ingress", f"http://{host}:{port}/slack/events", url=f"http://{host}:{port}/slack/events")
        queues = _stage_queues(settings)
        report.show("Workers", f"{processes} process(es) on queues {', '.join(queues)}", queues=queues)
        if settings.tradeflow_notifier == "log":
            outbox = data_dir / "notifications.log"
            report.show("Notifications", str(outbox), file=str(outbox))
        else:
            report.show("Notifications", "Slack DMs; try: tradeflow slack trade buy 10 AAPL --user U123")
        report.ready()
        return _wait(workers)


def traces_upstream(settings: Settings) -> str | None:
    """Phoenix's OTLP traces URL when it is the trace backend, or when it answers (`make traces`)."""
    from workers.console.traces import phoenix

    if settings.tradeflow_traces_backend == "phoenix":
        return (settings.tradeflow_traces_query_url or phoenix.DEFAULT_URL).rstrip("/") + "/v1/traces"
    if settings.tradeflow_traces_backend == "file" and phoenix.phoenix_answers(phoenix.DEFAULT_URL):
        return phoenix.DEFAULT_URL + "/v1/traces"
    return None


async def _create_tables(settings: Settings) -> None:
    store = await open_store(settings)
    await store.close()


def _stage_queues(settings: Settings) -> list[str]:
    from workers.chain.routing import QUEUE_NAMES

    return [settings.queue(s) for s in QUEUE_NAMES]


def _wait(workers: subprocess.Popen[bytes]) -> int:
    """Until the workers exit (1) or Ctrl-C / SIGTERM unwinds `up` (run_stack stops everything then)."""
    while workers.poll() is None:
        time.sleep(0.2)
    print(f"workers exited with {workers.returncode}", file=sys.stderr)
    return 1


def warn_of_foreign_consumers(settings: Settings) -> list[str]:
    """Warn about stage queues that already have consumers: another stack's workers would take their
    messages (its code, its store). The queues, each with its count, are returned."""
    from workers.chain.rabbitmq import connect_rabbitmq, queue_depth
    from workers.chain.routing import QUEUE_NAMES

    connection = connect_rabbitmq(settings.rabbitmq_urls)
    try:
        busy = [
            (settings.queue(stage), consumers)
            for stage in QUEUE_NAMES
            if (consumers := queue_depth(connection, settings.queue(stage))[1]) > 0
        ]
    finally:
        connection.close()
    if busy:
        listed = ", ".join(f"{queue} ({count})" for queue, count in busy)
        print(
            f"WARNING: these queues already have consumers this `up` did not start: {listed}. Another "
            "stack's workers would take this stack's messages: stop it, or give this stack its own "
            "TRADEFLOW_QUEUE_PREFIX.",
            file=sys.stderr,
            flush=True,
        )
    return [f"{queue} ({count})" for queue, count in busy]


def _emulator(module: str, host: str, port: int) -> list[str]:
    return [sys.executable, "-m", module, "--host", host, "--port", str(port)]


def _emulator_accounts(settings: Settings) -> str:
    """The emulator's ALPACA_EMULATOR_ACCOUNTS: NAME:KEY_ID:SECRET for each account beside the default."""
    keyed = [a for a in settings.alpaca_other_accounts if a.api_key]  # not those kept in Secrets Manager
    return ",".join(f"{a.name}:{a.api_key}:{a.secret_key}" for a in keyed)
