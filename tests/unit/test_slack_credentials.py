"""The ingress refuses to start on a signing secret or bot token anyone can read (issue 13, defect 1)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workers.settings import Settings, load_settings
from workers.slack.credentials import UnsafeSlackCredentials, check_ingress_credentials, is_loopback_url

ROOT = Path(__file__).resolve().parents[2]
REAL_LOOKING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
REAL_LOOKING_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK = "https://slack.com/api/"


def env_example() -> dict[str, str]:
    """.env.example's values, its commented defaults included (every line there is one)."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if re.match(r"#? ?[A-Z][A-Z0-9_]*=", line):
            name, _, value = line.lstrip("# ").partition("=")
            values[name] = value
    return values


def settings(**env: str) -> Settings:
    return load_settings(env)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        # the emulator's defaults against real Slack
        ({"SLACK_API_URL": SLACK}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_API_URL": SLACK, "SLACK_SIGNING_SECRET": REAL_LOOKING_SECRET}, "SLACK_BOT_TOKEN"),
        # .env.example's placeholders, copied as they are
        (
            {
                "SLACK_API_URL": SLACK,
                "SLACK_SIGNING_SECRET": env_example()["SLACK_SIGNING_SECRET"],
                "SLACK_BOT_TOKEN": REAL_LOOKING_TOKEN,
            },
            "SLACK_SIGNING_SECRET",
        ),
        (
            {
                "SLACK_API_URL": SLACK,
                "SLACK_SIGNING_SECRET": REAL_LOOKING_SECRET,
                "SLACK_BOT_TOKEN": env_example()["SLACK_BOT_TOKEN"],
            },
            "SLACK_BOT_TOKEN",
        ),
        # staging and production never take a placeholder, whatever the Slack API is
        ({"TRADEFLOW_ENV": "staging"}, "SLACK_SIGNING_SECRET"),
        ({"TRADEFLOW_ENV": "production"}, "SLACK_SIGNING_SECRET"),
        (
            {"TRADEFLOW_ENV": "production", "SLACK_SIGNING_SECRET": REAL_LOOKING_SECRET},
            "SLACK_BOT_TOKEN",
        ),
        # an emulator reached over a network, or an ingress listening beyond loopback
        ({"SLACK_API_URL": "http://slack-emulator:8766/api/"}, "SLACK_SIGNING_SECRET"),
        ({"TRADEFLOW_INGRESS_HOST": "0.0.0.0"}, "SLACK_SIGNING_SECRET"),
    ],
)
def test_a_public_secret_or_token_is_refused_naming_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(UnsafeSlackCredentials, match=variable):
        check_ingress_credentials(settings(**env))


def test_the_emulators_defaults_are_fine_on_loopback_in_development() -> None:
    check_ingress_credentials(settings())  # `tradeflow up`: the emulator on 127.0.0.1


def test_real_credentials_pass_everywhere() -> None:
    for env in ("development", "staging", "production"):
        check_ingress_credentials(
            settings(
                TRADEFLOW_ENV=env,
                SLACK_API_URL=SLACK,
                SLACK_SIGNING_SECRET=REAL_LOOKING_SECRET,
                SLACK_BOT_TOKEN=REAL_LOOKING_TOKEN,
                TRADEFLOW_INGRESS_HOST="0.0.0.0",
            )
        )


def test_the_refusal_never_prints_the_value() -> None:
    with pytest.raises(UnsafeSlackCredentials) as refused:
        check_ingress_credentials(settings(TRADEFLOW_ENV="staging"))
    assert Settings().slack_signing_secret not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8766/api/", True),
        ("http://localhost:8766/api/", True),
        ("http://[::1]:8766/api/", True),
        ("http://127.9.9.9/api/", True),
        ("https://slack.com/api/", False),
        ("http://slack-emulator:8766/api/", False),
        ("http://10.0.0.5:8766/api/", False),
        ("http://127.0.0.1.evil.example/api/", False),
    ],
)
def test_loopback_means_loopback(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_tradeflow_ingress_in_staging_with_the_default_secret_exits_naming_it() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEFLOW_", "SLACK_"))}
    env.update(
        TRADEFLOW_ENV="staging",
        RABBITMQ_URL="amqp://guest:guest@127.0.0.1:9/%2F",
        AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:9",
        OTEL_TRACES_EXPORTER="none",
    )
    done = subprocess.run(
        [sys.executable, "-m", "workers.console.main", "ingress"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "SLACK_SIGNING_SECRET" in done.stderr
    assert not re.search(r"Slack ingress on http", done.stderr + done.stdout)
