"""The `tradeflow` console as a newcomer meets it: --version, help everywhere, .env read, clean failures."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.waiting import eventually
from workers.console.args import build_parser
from workers.console.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE
from workers.console.failures import run_reporting_failures
from workers.console.stack.ports import free_port
from workers.settings import load_settings, setting_variables

REPO_ROOT = Path(__file__).resolve().parents[2]
REFUSED_PORT = "127.0.0.1:9"  # discard: nothing listens there


def tradeflow(
    *args: str, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TRADEFLOW_", "ALPACA_", "SLACK_"))
    }
    environment["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "workers.console.main", *args],
        cwd=cwd,
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def every_action(
    parser: argparse.ArgumentParser, path: str = "tradeflow"
) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += every_action(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            found.append((path, action))
    return found


def test_every_option_and_positional_of_every_command_is_explained() -> None:
    unexplained = [
        f"{path} {a.option_strings or a.dest}" for path, a in every_action(build_parser()) if not a.help
    ]
    assert unexplained == []


def test_version_answers() -> None:
    result = tradeflow("--version")
    assert result.returncode == 0 and result.stdout.startswith("tradeflow ")


def test_config_shows_what_env_file_set_and_the_environment_won(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "TRADEFLOW_MAX_QUANTITY=123\nLOG_LEVEL=WARNING\nSLACK_SIGNING_SECRET=from-the-file-0123456789\n"
    )
    result = tradeflow("config", "--json", cwd=tmp_path, env={"LOG_LEVEL": "ERROR"})
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    rows = {row["variable"]: row for row in doc["settings"]}
    assert (rows["TRADEFLOW_MAX_QUANTITY"]["value"], rows["TRADEFLOW_MAX_QUANTITY"]["source"]) == (
        "123",
        ".env",
    )
    assert (rows["LOG_LEVEL"]["value"], rows["LOG_LEVEL"]["source"]) == ("ERROR", "environment")
    assert rows["TRADEFLOW_MAX_NOTIONAL"]["source"] == "default"
    assert rows["SLACK_SIGNING_SECRET"] == {
        "variable": "SLACK_SIGNING_SECRET",
        "value": "***",
        "source": ".env",
    }
    assert "from-the-file" not in result.stdout
    assert doc["overridden_in_env_file"] == ["LOG_LEVEL"]
    assert set(rows) == set(setting_variables())  # every setting, none left out


def test_a_submit_with_rabbitmq_down_ends_in_one_line_and_exit_4() -> None:
    result = tradeflow(
        "submit",
        "--user",
        "U123",
        "buy",
        "1",
        "AAPL",
        env={"RABBITMQ_URL": f"amqp://u:secret@{REFUSED_PORT}/%2F"},
    )
    assert result.returncode == EXIT_UNAVAILABLE, result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "RabbitMQ at amqp://u:***@127.0.0.1:9/%2F is unreachable" in result.stderr


def test_a_store_command_with_dynamodb_down_ends_in_one_line_and_exit_4() -> None:
    result = tradeflow("positions", "U123", env={"AWS_ENDPOINT_URL_DYNAMODB": f"http://{REFUSED_PORT}"})
    assert result.returncode == EXIT_UNAVAILABLE, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"tradeflow positions: DynamoDB at http://{REFUSED_PORT} is unreachable")


def test_no_terminal_a_closed_pipe_and_ctrl_c_are_told_not_traced(capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings({})

    def raises(exc: BaseException) -> int:
        raise exc

    assert run_reporting_failures("dlq purge", lambda: raises(EOFError()), settings) == EXIT_USAGE
    assert "no terminal to answer on; give --yes" in capsys.readouterr().err
    assert run_reporting_failures("trade", lambda: raises(KeyboardInterrupt()), settings) == EXIT_INTERRUPTED
    with pytest.raises(ZeroDivisionError):  # a bug keeps its traceback
        run_reporting_failures("trade", lambda: raises(ZeroDivisionError()), settings)


def test_a_closed_pipe_is_a_quiet_success() -> None:
    probe = (
        "import sys\n"
        "from workers.console.failures import run_reporting_failures\n"
        "from workers.settings import load_settings\n"
        "def reader_gone():\n"
        "    raise BrokenPipeError()\n"
        "sys.exit(run_reporting_failures('report', reader_gone, load_settings({})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (EXIT_OK, "")


def test_the_ingress_listens_where_host_and_port_say() -> None:
    port = free_port()
    ours = ("TRADEFLOW_", "ALPACA_", "SLACK_", "AWS_", "RABBITMQ_")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    environment.update(PYTHONPATH=str(REPO_ROOT), TRADEFLOW_STORE="memory", ALPACA_PAPER_ENABLED="false")
    ingress = subprocess.Popen(
        [sys.executable, "-m", "workers.console.main", "ingress", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        eventually(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=30)
    finally:
        ingress.terminate()
        ingress.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
