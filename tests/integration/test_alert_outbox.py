"""The dev stack's alert servers end to end: `up`'s way of starting the SMTP capture server and moto's SNS
(and stopping them with it), the alerts service sending over both once however often its message comes, and
`tradeflow alerts outbox` listing what each received, newest first."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from emulators.smtp.server import SmtpCapture
from messages.alerts import AlertChoice, AlertPreferences, SendAlert, alert_id_of
from tests.integration.alert_servers import a_number, moto_sns
from tests.unit.fakes import make_deps
from workers.alerts.channels import open_alert_channels
from workers.console.alerts.commands import outbox_document
from workers.console.main import main
from workers.console.stack.alert_servers import start_alert_servers
from workers.console.stack.children import StoppedTogether, port_open
from workers.console.stack.ports import free_port
from workers.handlers.alerts import send_alert
from workers.settings import load_settings
from workers.store.memory.store import MemoryTradeStore

__all__ = ["moto_sns"]


def large_trade(n: int) -> SendAlert:
    return SendAlert(
        alert_id=alert_id_of("large_trade", str(uuid.uuid4())),
        kind="large_trade",
        subject=f"Large trade #{n}: AAPL",
        body=f"U123 bought {n},000 AAPL",
        at=datetime.now(UTC),
        user_id="U123",
        notional=Decimal(190_000),
    )


async def test_each_alert_reaches_each_recipient_once_and_the_outbox_lists_them_newest_first(
    tmp_path: Path, moto_sns: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data, number = tmp_path / "data", a_number()
    with SmtpCapture(data / "mail.jsonl") as smtp:
        env = {
            "TRADEFLOW_DATA_DIR": str(data),
            "TRADEFLOW_SMTP_PORT": str(smtp.port),
            "AWS_ENDPOINT_URL_SNS": moto_sns,
            "TRADEFLOW_STORE": "memory",
        }
        channels = await open_alert_channels(load_settings(env))
        assert channels is not None
        store = MemoryTradeStore()
        desk = AlertChoice(kinds=("large_trade",), email="desk@example.com")
        trader = AlertChoice(kinds=("large_trade",), phone=number)
        assert await store.put_alert_preferences(AlertPreferences(desk=desk, users={"U123": trader}), 0)
        deps = make_deps(store=store, alerts=channels)
        try:
            for alert in (large_trade(1), large_trade(2)):
                for _ in range(2):  # each delivered twice
                    await send_alert(alert, deps)
        finally:
            await channels.close()
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert main(["alerts", "outbox", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(m["to"], m["subject"]) for m in doc["email"]] == [
        (["desk@example.com"], "Large trade #2: AAPL"),
        (["desk@example.com"], "Large trade #1: AAPL"),
    ]
    mine = [s["message"] for s in doc["sms"] if s["phone_number"] == number]
    assert mine == [
        "Large trade #2: AAPL\nU123 bought 2,000 AAPL",
        "Large trade #1: AAPL\nU123 bought 1,000 AAPL",
    ]


def test_the_outbox_says_why_it_lists_no_sms(tmp_path: Path) -> None:
    settings = load_settings({"TRADEFLOW_DATA_DIR": str(tmp_path), "AWS_ENDPOINT_URL_SNS": ""})
    doc = outbox_document(settings, limit=5)
    assert doc["email"] == [] and "AWS SNS" in doc["sms_unlisted"]
    down = f"http://127.0.0.1:{free_port()}"
    settings = load_settings({"TRADEFLOW_DATA_DIR": str(tmp_path), "AWS_ENDPOINT_URL_SNS": down})
    assert "tradeflow up" in outbox_document(settings, limit=5)["sms_unlisted"]


def test_up_starts_the_smtp_capture_server_and_moto_sns_and_stops_them_with_itself(tmp_path: Path) -> None:
    smtp_port, sns_port = free_port(), free_port()
    settings = load_settings(
        {
            "TRADEFLOW_DATA_DIR": str(tmp_path),
            "TRADEFLOW_SMTP_PORT": str(smtp_port),
            "AWS_ENDPOINT_URL_SNS": f"http://127.0.0.1:{sns_port}",
        }
    )
    services = StoppedTogether()
    try:
        parts = start_alert_servers(settings, tmp_path, {}, services)
        assert [(p.part, p.detail["started"]) for p in parts] == [("Email", True), ("SMS", True)]
        assert port_open("127.0.0.1", smtp_port) and port_open("127.0.0.1", sns_port)
        beside = StoppedTogether()  # a second `up` beside it
        again = start_alert_servers(settings, tmp_path, {}, beside)
        assert [p.detail["started"] for p in again] == [False, False]
        assert beside.processes == []
    finally:
        services.stop()
    assert not port_open("127.0.0.1", smtp_port) and not port_open("127.0.0.1", sns_port)
    off = load_settings({"TRADEFLOW_ALERTS": "off"})
    assert [p.part for p in start_alert_servers(off, tmp_path, {}, StoppedTogether())] == ["Alerts"]
