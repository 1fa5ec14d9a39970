"""Planted secrets never come out: not in a log, a dead letter shown, an export, a trade shown, an audit item
or a span.

The Slack flow's stack runs with unique, unusual values for every secret setting (its emulators are this
test's own, configured to accept them, so the keys are really used). It trades on Alpaca from Slack's side,
fails a trade, takes a forged request carrying the bot token, and dead-letters a poisoned message whose
exception quotes a secret. Then every output is searched for each planted value, as written and as URL- or
JSON-escaped.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aioboto3
import msgspec
import pytest

from emulators.alpaca import AlpacaEmulator
from emulators.slack import SlackEmulator
from tests.e2e.stack import SlackStack, all_told
from tests.fixtures_alpaca import TEST_SETTINGS
from tests.waiting import eventually
from workers.store.dynamodb.tables import TableNames

pytestmark = pytest.mark.e2e

_RUN = uuid.uuid4().hex[:10]
PLANTED = {
    "ALPACA_PAPER_API_KEY": f"PKPLANTED{_RUN.upper()}",  # a paper key: the paper guard must accept it
    "ALPACA_PAPER_SECRET_KEY": f"plantedAlpacaSecret{_RUN}Zq",
    "SLACK_BOT_TOKEN": f"xoxb-planted-{_RUN}-bot",
    "SLACK_SIGNING_SECRET": f"plantedSigning{_RUN}Secret",
    "AWS_SECRET_ACCESS_KEY": f"plantedAws/{_RUN}+Secret",  # AWS secrets hold / and +
}


@pytest.fixture
def alpaca_emulator() -> Iterator[AlpacaEmulator]:
    """An Alpaca emulator of this test's own that accepts only the planted keys."""
    settings: dict[str, Any] = {
        **TEST_SETTINGS,
        "key_id": PLANTED["ALPACA_PAPER_API_KEY"],
        "secret_key": PLANTED["ALPACA_PAPER_SECRET_KEY"],
    }
    emulator = AlpacaEmulator(**settings).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def slack_emulator() -> Iterator[SlackEmulator]:
    """A Slack emulator of this test's own, on the planted bot token and signing secret."""
    emulator = SlackEmulator(
        bot_token=PLANTED["SLACK_BOT_TOKEN"], signing_secret=PLANTED["SLACK_SIGNING_SECRET"]
    ).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def stack_env(stack_env: tuple[dict[str, str], Path]) -> tuple[dict[str, str], Path]:
    """The e2e stack's environment with the planted AWS secret, and DEBUG_MODE: every line there is."""
    env, spans = stack_env
    env.update(
        AWS_ACCESS_KEY_ID=f"plantedAccessKeyId{_RUN}",
        AWS_SECRET_ACCESS_KEY=PLANTED["AWS_SECRET_ACCESS_KEY"],
        DEBUG_MODE="true",
    )
    return env, spans


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "workers.log"


async def _trade(flow: SlackStack, text: str) -> str:
    """`/trade TEXT` and Execute Trade on the prefilled modal; the trade id."""
    command = await flow.driver.slash_command(text)
    assert command.status == 200, command
    view = eventually(lambda: flow.driver.opened_view(command.trigger_id), timeout=10)
    answer = await flow.driver.submit_view(view)
    assert answer.status == 200, answer
    return str(json.loads(view["private_metadata"])["trade_id"])


def _poison(flow: SlackStack) -> str:
    """A message whose type is a secret: its decoding error quotes the value. Its message id."""
    validation = flow.stack.queue("validation")
    message_id = f"poison-{_RUN}"
    envelope = {
        "queue_name": validation,
        "actor_name": "validation",
        "args": [{"type": PLANTED["ALPACA_PAPER_SECRET_KEY"], "trade": {"user_id": "U123"}}],
        "kwargs": {},
        "options": {},
        "message_id": message_id,
        "message_timestamp": 0,
    }
    flow.stack.queues.publish_raw(validation, msgspec.json.encode(envelope))
    return message_id


async def _table_items(flow: SlackStack) -> str:
    """Every item of this stack's tables, trades and audit items included, as JSON text."""
    settings = flow.stack.settings
    session = aioboto3.Session()
    async with session.client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=flow.stack.env["AWS_ENDPOINT_URL_DYNAMODB"],
        aws_access_key_id="reader",
        aws_secret_access_key="reader",
    ) as client:
        # By name, not ListTables: the session's DynamoDB Local holds other tests' tables, and ListTables
        # answers 100 names a page, so this stack's tables may not be on the first one.
        tables = TableNames.from_prefix(settings.dynamodb_table_prefix)
        items: list[Any] = []
        for name in (tables.trades, tables.positions, tables.audit, tables.control):
            pages = client.get_paginator("scan").paginate(TableName=name)
            async for page in pages:
                items += page["Items"]
    assert items
    return json.dumps(items)


def _cli(flow: SlackStack, *args: str) -> str:
    done = flow.stack.cli(*args)
    assert done.returncode in (0, 1), (args, done.stderr)
    return done.stdout + done.stderr


def _leaks(outputs: dict[str, str]) -> list[str]:
    found = []
    for name, value in PLANTED.items():
        forms = {value, quote(value, safe=""), json.dumps(value)[1:-1]}
        found += [f"{name} in {where}" for where, text in outputs.items() for form in forms if form in text]
    return found


def test_no_planted_secret_reaches_a_log_a_dead_letter_an_export_an_audit_item_or_a_span(
    slack_stack: SlackStack, worker_log: Path
) -> None:
    flow = slack_stack
    assert all(flow.stack.env[name] == value for name, value in PLANTED.items())
    ingress_log = Path(flow.stack.env["TRADEFLOW_DATA_DIR"]) / "ingress.log"
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    executed = asyncio.run(_trade(flow, "buy 3 AAPL"))
    eventually(all_told(flow.stack, [executed]), timeout=60)
    flow.stack.emulator.admin.add_fault("refuse_order", message="unable to process order")
    refused = asyncio.run(_trade(flow, "buy 2 MSFT"))
    forged = asyncio.run(
        flow.driver.post_signed(
            f"token={PLANTED['SLACK_BOT_TOKEN']}&command=%2Ftrade&text=buy+1+AAPL&user_id=U123",
            "application/x-www-form-urlencoded",
            signature="v0=" + "0" * 64,
        )
    )
    assert forged.status == 401
    message_id = _poison(flow)
    xq = f"{flow.stack.queue('validation')}.XQ"
    eventually(lambda: flow.stack.queues.count(xq) == 1, timeout=30)
    eventually(all_told(flow.stack, [executed, refused]), timeout=60)

    shown = flow.stack.cli("trade", "show", refused, "--json")
    assert json.loads(shown.stdout)["trade"]["status"] == "failed"
    dead = _cli(flow, "dlq", "show", "validation", message_id, "--json")
    assert "Invalid value '***'" in dead  # the secret reached the dead letter, and was masked on show
    outputs = {
        "worker log": worker_log.read_text(encoding="utf-8", errors="replace"),
        "ingress log": ingress_log.read_text(encoding="utf-8", errors="replace"),
        "dlq show --json": dead,
        "dlq show": _cli(flow, "dlq", "show", "validation", message_id),
        "dlq list --json": _cli(flow, "dlq", "list", "--json"),
        "report csv": _cli(flow, "report", "--from", since, "--format", "csv"),
        "report jsonl": _cli(flow, "report", "--from", since, "--format", "jsonl"),
        "trade show --json": shown.stdout + shown.stderr,
        "trade show": _cli(flow, "trade", "show", executed) + _cli(flow, "trade", "show", refused),
        "health --json": _cli(flow, "health", "--json"),
        "dynamodb items": asyncio.run(_table_items(flow)),
        "spans": flow.stack.spans_path.read_text(encoding="utf-8"),
    }
    # Each output really holds what it should, so an empty one cannot pass for a clean one.
    assert executed in outputs["worker log"] and "MessageDecodeError" in outputs["worker log"]
    assert outputs["ingress log"].strip()
    assert "2 trades" in outputs["report jsonl"] and refused in outputs["report csv"]
    assert "trade_notified" in outputs["dynamodb items"] and executed.replace("-", "") in outputs["spans"]
    assert _leaks(outputs) == []
