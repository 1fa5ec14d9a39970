"""`tradeflow up` on its embedded defaults: a trade survives stopping and restarting the stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import REPO_ROOT
from workers.console.stack.ports import free_port
from workers.console.stack.up import port_open

pytestmark = pytest.mark.e2e


class Up:
    """One `tradeflow up --json` process, stopped with Ctrl-C as a person would."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workers.console.main", "up", "--json"],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the JSON object comes once everything is up
        assert line, "tradeflow up exited before it was ready"
        self.parts: dict[str, Any] = json.loads(line)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "workers.console.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=90,
            cwd=REPO_ROOT,
        )

    def stop(self) -> int:
        """Ctrl-C, and up's exit code once it has stopped what it started (a minute was not always enough
        on two cores shared with three other test workers)."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(180)


@pytest.fixture
def up_env(
    tmp_path: Path, rabbitmq_url: str, queue_prefix: str, table_prefix: str
) -> Iterator[dict[str, str]]:
    if os.environ.get("CI") != "true" and subprocess.run(["which", "java"], capture_output=True).returncode:
        pytest.skip("tradeflow up needs Java for DynamoDB Local")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEFLOW_", "OTEL_"))}
    alpaca = f"http://127.0.0.1:{free_port()}"
    env.update(
        ALPACA_PAPER_BASE_URL=f"{alpaca}/paper",
        ALPACA_DATA_BASE_URL=alpaca,
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",
        TRADEFLOW_INGRESS_PORT=str(free_port()),
        RABBITMQ_URL=rabbitmq_url,
        AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{free_port()}",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        DYNAMODB_TABLE_PREFIX=table_prefix,
        TRADEFLOW_QUEUE_PREFIX=queue_prefix,
        TRADEFLOW_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=str(REPO_ROOT),
    )
    yield env


def test_a_trade_survives_a_restart_of_up(up_env: dict[str, str]) -> None:
    up = Up(up_env)
    try:
        assert up.parts["DynamoDB"]["kind"] == "dynamodb-local" and up.parts["DynamoDB"]["started"] is True
        done = up.cli("submit", "--user", "U123", "buy", "10", "AAPL", "--wait", "--json")
        assert done.returncode == 0, done.stderr
        outcome = json.loads(done.stdout)
        assert (outcome["status"], outcome["execution_method"]) == ("executed", "alpaca")
        assert outcome["alpaca_order_id"] and "slippage_bps" in outcome
        assert up.parts["Alpaca"]["started"] is True
        trade_before = json.loads(up.cli("trade", "show", outcome["trade_id"], "--json").stdout)
        positions_before = json.loads(up.cli("positions", "U123", "--json").stdout)
    finally:
        assert up.stop() == 0
    for part in ("DynamoDB", "Alpaca"):  # what up started, it stopped
        assert not port_open("127.0.0.1", int(up.parts[part]["url"].split(":")[2].split("/")[0]))

    again = Up(up_env)
    try:
        assert json.loads(again.cli("trade", "show", outcome["trade_id"], "--json").stdout) == trade_before
        assert json.loads(again.cli("positions", "U123", "--json").stdout) == positions_before
        assert [(p["symbol"], p["quantity"]) for p in positions_before["positions"]] == [("AAPL", "10")]
        spans = Path(up.parts["Traces"]["file"]).read_text()
        assert outcome["trade_id"].replace("-", "") in spans
    finally:
        assert again.stop() == 0
