"""An automatic halt through the whole stack: a trader whose day's losses reach their day-loss limit is put in
the REDUCING state by the positions stage; the desk hears it once by email (the SMTP capture server `up`
runs) and once by SMS (SNS on moto's server); a trade that adds exposure is refused while a closing one
passes; an operator lifts it with `tradeflow resume --user`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.smtp.server import SmtpCapture
from tests.e2e.conftest import _alpaca_stack
from tests.e2e.stack import Stack
from tests.integration.alert_servers import a_number, moto_sns
from tests.waiting import eventually

pytestmark = pytest.mark.e2e
__all__ = ["moto_sns"]
DESK_EMAIL = "desk@example.com"


@pytest.fixture
def alerting_stack(
    stack_env: tuple[dict[str, str], Path], alpaca_emulator: Any, moto_sns: str
) -> Iterator[Stack]:
    env, _ = stack_env
    with SmtpCapture(Path(env["TRADEFLOW_DATA_DIR"]) / "mail.jsonl") as smtp:
        yield from _alpaca_stack(
            stack_env,
            alpaca_emulator,
            TRADEFLOW_ALERTS="on",
            TRADEFLOW_SMTP_PORT=str(smtp.port),
            AWS_ENDPOINT_URL_SNS=moto_sns,
        )


def _submit(stack: Stack, *args: str) -> tuple[int, dict[str, Any]]:
    done = stack.cli("submit", "--user", "U123", *args, "--wait", "--timeout", "60", "--json")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def _outbox(stack: Stack, number: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    done = stack.cli("alerts", "outbox", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    return doc["email"], [sms for sms in doc["sms"] if sms["phone_number"] == number]


def test_a_day_loss_halts_the_trader_reducing_and_the_desk_hears_it_once_by_email_and_sms(
    alerting_stack: Stack,
) -> None:
    stack, number = alerting_stack, a_number()
    admin = stack.emulator.admin
    set_desk = ("alerts", "desk", "set", "--events", "halt", "--email", DESK_EMAIL, "--phone", number)
    assert stack.cli(*set_desk).returncode == 0
    assert stack.cli("limits", "set", "--user", "U123", "--day-loss-halt", "50").returncode == 0

    admin.set_price("IBM", "100.00", freeze=True)  # quoted by no other test
    code, bought = _submit(stack, "buy", "10", "IBM")
    assert code == 0 and bought["status"] == "executed", bought
    admin.set_price("IBM", "90.00", freeze=True)
    code, sold = _submit(stack, "sell", "5", "IBM")  # realizes about -$50: the limit
    assert code == 0 and sold["status"] == "executed", sold

    def halted() -> bool:
        return bool(stack.store_call(lambda store: store.get_kill_switch(user_id="U123")).engaged)

    eventually(halted, timeout=20)
    switch = stack.store_call(lambda store: store.get_kill_switch(user_id="U123"))
    assert switch.mode == "reducing" and switch.automatic and "day-loss limit of -$50.00" in switch.reason
    eventually(lambda: all(len(sent) == 1 for sent in _outbox(stack, number)), timeout=30)
    health = json.loads(stack.cli("health", "--json").stdout)
    store_check = next(c for c in health["checks"] if c["name"] == "dynamodb")
    assert store_check["data"]["halted_traders"] == {"U123": "reducing"}
    assert "U123 REDUCING" in store_check["detail"]

    code, refused = _submit(stack, "buy", "1", "IBM")  # adds exposure: refused
    assert code == 1 and refused["rejection_reasons"][0]["code"] == "TRADING_REDUCING", refused
    code, closing = _submit(stack, "sell", "5", "IBM")  # reduces it: passes, and halts nothing twice
    assert code == 0 and closing["status"] == "executed", closing
    emails, texts = _outbox(stack, number)
    assert len(emails) == 1 and len(texts) == 1  # once each, though the loss grew
    assert "REDUCING" in emails[0]["subject"] and emails[0]["to"] == [DESK_EMAIL]
    assert "day-loss limit of -$50.00" in texts[0]["message"]

    lifted = stack.cli("resume", "--user", "U123", "--reason", "reviewed", "--json")
    assert lifted.returncode == 0 and json.loads(lifted.stdout)["trading"] == "resumed", lifted.stderr
    code, again = _submit(stack, "buy", "1", "IBM")
    assert code == 0 and again["status"] == "executed", again  # lifted for the rest of the day
    assert len(_outbox(stack, number)[0]) == 1
