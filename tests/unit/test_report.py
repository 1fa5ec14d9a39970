"""The regulatory report's rows, redaction, window and progress bar, on the in-memory store (no sockets)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from messages.records import TradeRecord
from messages.trade import Rejection
from tests.contract.builders import (
    EXECUTED,
    FAILED,
    NOW,
    POSITION_GUARD,
    SUBMITTED,
    a_trade,
    audit,
    executed,
    failed,
    pending,
    working,
)
from workers.console.trades.progress import WindowProgress
from workers.console.trades.report import parse_window, write_report
from workers.console.trades.report_rows import COLUMNS, ReportFormat
from workers.store.memory.store import MemoryTradeStore

SINCE, UNTIL = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
SECRET = 'PKPLANTED"quote\\slash'


async def _export(store: MemoryTradeStore, report_format: ReportFormat, secrets: tuple[str, ...] = ()) -> str:
    out = io.StringIO()
    await write_report(
        store, out, since=SINCE, until=UNTIL, report_format=report_format, secrets=secrets, page_size=2
    )
    return out.getvalue()


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def _three_trades(store: MemoryTradeStore) -> list[TradeRecord]:
    """An executed trade with two fills and its stages, a failed one, and a rejected one, in that order."""
    base = [pending(a_trade(submitted_at=NOW + timedelta(seconds=i))) for i in range(3)]
    for record in base[:2]:
        await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])
    rejected = msgspec.structs.replace(
        base[2],
        status="rejected",
        rejection_reasons=(Rejection(field="user_id", code="NOT_A_TRADER", message="U999 may not trade"),),
    )
    await store.put_new_trade(rejected, [audit(rejected.trade_id, "020#trade_rejected")])
    filled = working(base[0], "4", "6")
    done = msgspec.structs.replace(executed(base[0]), fills=filled.fills, alpaca_order_id="ord-1")
    await store.record_outcome(done, audit(done.trade_id, EXECUTED))
    await store.append_audit(audit(done.trade_id, POSITION_GUARD))
    lost = failed(base[1])
    await store.record_outcome(lost, audit(lost.trade_id, FAILED))
    return [done, lost, rejected]


async def test_csv_has_a_header_and_one_row_per_trade_with_fills_and_audit_as_json_cells() -> None:
    store = MemoryTradeStore()
    done, lost, rejected = await _three_trades(store)
    text = await _export(store, "csv")
    assert text.splitlines()[0].split(",") == list(COLUMNS)
    rows = _csv_rows(text)
    assert [row["trade_id"] for row in rows] == [
        str(done.trade_id),
        str(lost.trade_id),
        str(rejected.trade_id),
    ]
    first = rows[0]
    assert (first["status"], first["execution_method"], first["alpaca_order_id"]) == (
        "executed",
        "simulation",
        "ord-1",
    )
    assert first["execution_price"] == "150.0523" and first["slippage_bps"] == "0.1533"
    assert first["fill_count"] == "2"
    assert [fill["quantity"] for fill in json.loads(first["fills"])] == ["4", "6"]
    assert first["audit_event_count"] == "3"
    assert [event["event_type"] for event in json.loads(first["audit_events"])] == [
        "trade_submitted",
        "trade_executed",
        "position_updated",
    ]
    assert first["submitted_at"] == "2026-11-25T14:30:00.000000+00:00"
    assert first["recorded_at"] and first["executed_at"] and first["position_updated_at"]
    assert first["rejected_at"] == first["failed_at"] == first["notified_at"] == ""
    assert (rows[1]["status"], rows[1]["error_code"], rows[1]["failed_at"] != "") == (
        "failed",
        "BROKER_DOWN",
        True,
    )
    third = rows[2]
    assert third["status"] == "rejected" and third["recorded_at"] == "" and third["rejected_at"] != ""
    assert json.loads(third["rejection_reasons"])[0]["code"] == "NOT_A_TRADER"
    assert third["fills"] == "" and third["fill_count"] == "0"


async def test_jsonl_has_the_same_keys_with_real_arrays_and_nulls() -> None:
    store = MemoryTradeStore()
    trades = await _three_trades(store)
    lines = [json.loads(line) for line in (await _export(store, "jsonl")).splitlines()]
    assert [line["trade_id"] for line in lines] == [str(record.trade_id) for record in trades]
    assert [list(line) for line in lines] == [list(COLUMNS)] * 3
    assert lines[0]["fills"][1] == {
        "quantity": "6",
        "price": "150.0523",
        "timestamp": "2026-11-25T14:30:00.000000+00:00",
    }
    assert lines[0]["audit_events"][0]["event_key"] == SUBMITTED
    assert lines[2]["execution_price"] is None and lines[2]["rejection_reasons"][0]["field"] == "user_id"


@pytest.mark.parametrize("report_format", ["csv", "jsonl"])
async def test_a_secret_anywhere_in_a_trade_or_its_audit_is_masked(report_format: ReportFormat) -> None:
    store = MemoryTradeStore()
    record, other = (pending(a_trade(submitted_at=NOW + timedelta(seconds=i))) for i in range(2))
    await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED, {"echo": f"key={SECRET}"})])
    await store.record_outcome(
        msgspec.structs.replace(failed(record), error_message=f"refused {SECRET}"),
        audit(record.trade_id, FAILED),
    )
    await store.put_new_trade(other, [])
    broken = msgspec.structs.replace(failed(other), error_message="refused Bearer xyz123abc")
    await store.record_outcome(broken, audit(other.trade_id, FAILED))
    text = await _export(store, report_format, secrets=(SECRET,))
    escaped = json.dumps(SECRET)[1:-1]  # how the secret, with its quote and backslash, reads in JSON
    assert SECRET not in text and escaped not in text and "PKPLANTED" not in text and "xyz123abc" not in text
    rows: list[dict[str, Any]] = (
        _csv_rows(text) if report_format == "csv" else [json.loads(line) for line in text.splitlines()]
    )
    assert [row["error_message"] for row in rows] == ["refused ***", "refused Bearer ***"]
    events = rows[0]["audit_events"]
    assert (json.loads(events) if report_format == "csv" else events)[0]["details"]["echo"] == "key=***"


async def test_a_row_with_nothing_to_mask_is_written_as_it_is() -> None:
    store = MemoryTradeStore()
    await _three_trades(store)
    assert await _export(store, "jsonl", secrets=(SECRET,)) == await _export(store, "jsonl")


def test_the_window_takes_iso_times_dates_and_durations_and_names_the_bad_option() -> None:
    now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert parse_window("2026-11-24", "2026-11-25T12:00:00+01:00", now) == (
        datetime(2026, 11, 24, tzinfo=UTC),
        datetime(2026, 11, 25, 11, 0, tzinfo=UTC),
    )
    assert parse_window("90m", None, now) == (now - timedelta(minutes=90), now)
    with pytest.raises(ValueError, match="--to"):
        parse_window("1h", "yesterday", now)
    with pytest.raises(ValueError, match="before --from"):
        parse_window("1h", "2h", now)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_is_drawn_on_a_terminal_only_and_follows_the_window() -> None:
    since, until = NOW, NOW + timedelta(hours=10)
    assert WindowProgress.on_terminal(io.StringIO(), since, until) is None
    ticks = iter([0.0, 1.0, 1.05, 2.0, 2.0])
    terminal = _Terminal()
    bar = WindowProgress(terminal, since, until, clock=lambda: next(ticks))
    bar.advance(NOW + timedelta(hours=2))  # drawn: the first row
    bar.advance(NOW + timedelta(hours=5))  # within the redraw interval: not drawn
    assert (
        terminal.getvalue().count("\r") == 1 and " 20% of the window · 1 trades · 1/s" in terminal.getvalue()
    )
    bar.advance(NOW + timedelta(hours=6))
    assert bar.line(2.0).startswith("[" + "#" * 18 + "-" * 12 + "]  60% of the window · 3 trades")
    bar.finish()
    assert terminal.getvalue().endswith("100% of the window · 3 trades · 2/s\x1b[K\n")
