"""Configuring tracing instruments the process's clients once, unless it exports nothing.

Each case runs in a process of its own: the tracer provider and the instrumentations are process-global.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = """
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.botocore import AiobotocoreInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from telemetry.tracing import configure_tracing
configure_tracing("tradeflow-test", exporter={exporter!r})
configure_tracing("tradeflow-test", exporter={exporter!r})  # a second call changes nothing
instrumentors = (AiobotocoreInstrumentor(), RequestsInstrumentor(), AioHttpClientInstrumentor())
print(sorted({{i.is_instrumented_by_opentelemetry for i in instrumentors}}))
"""


@pytest.mark.parametrize(("exporter", "instrumented"), [("console", "[True]"), ("none", "[False]")])
def test_tracing_instruments_the_clients_unless_it_exports_nothing(exporter: str, instrumented: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(exporter=exporter)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == instrumented
