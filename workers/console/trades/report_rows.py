"""The regulatory report's rows: each trade with fills, stage times, audit trail, redacted, as CSV or JSONL.

The columns are documented in docs/audit-and-compliance.md ("Regulatory report").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import msgspec

from messages.records import AuditEvent, TradeRecord
from telemetry.redaction import redact

ReportFormat = Literal["csv", "jsonl"]
FORMATS: tuple[ReportFormat, ...] = ("csv", "jsonl")

# Each stage's time: the audit event that marks it (the record's own field where the audit has none).
_STAGE_EVENTS = {
    "recorded_at": "trade_recorded",
    "rejected_at": "trade_rejected",
    "working_at": "order_working",
    "executed_at": "trade_executed",
    "failed_at": "trade_failed",
    "position_updated_at": "position_updated",
    "notified_at": "trade_notified",
}
COLUMNS = (
    "trade_id",
    "user_id",
    "channel_id",
    "source",
    "account",
    "symbol",
    "side",
    "quantity",
    "notional",
    "order_type",
    "limit_price",
    "stop_price",
    "trail_price",
    "trail_percent",
    "time_in_force",
    "extended_hours",
    "status",
    "execution_method",
    "alpaca_order_id",
    "order_status",
    "execution_id",
    "filled_quantity",
    "execution_price",
    "reference_price",
    "slippage_bps",
    "market_impact_bps",
    "execution_time_ms",
    "error_code",
    "error_message",
    "error_next_steps",
    "rejection_reasons",
    "submitted_at",
    *_STAGE_EVENTS,
    "fill_count",
    "fills",
    "audit_event_count",
    "audit_events",
)
# Cells holding a list: one JSON array per cell in CSV, a real array in JSON lines.
_LIST_COLUMNS = frozenset({"error_next_steps", "rejection_reasons", "fills", "audit_events"})

_encoder = msgspec.json.Encoder(decimal_format="string")


def report_row(record: TradeRecord, audit: Sequence[AuditEvent]) -> dict[str, Any]:
    """One trade as a row of JSON-ready values keyed by COLUMNS: Decimals as exact strings, times in UTC."""
    events = {event.event_type: event for event in audit}
    stages = {column: _moment(_event_time(events, kind)) for column, kind in _STAGE_EVENTS.items()}
    # A trade written before its audit event existed still has the record's own times.
    if stages["recorded_at"] is None and record.status != "rejected":
        stages["recorded_at"] = _moment(record.recorded_at)
    if stages["rejected_at"] is None and record.status == "rejected":
        stages["rejected_at"] = _moment(record.recorded_at)
    if record.status == "executed":  # the stock broker's fill time, not the time it was written down
        stages["executed_at"] = _moment(record.execution_timestamp) or stages["executed_at"]
    if stages["failed_at"] is None and record.status == "failed":
        stages["failed_at"] = _moment(record.execution_timestamp)
    row: dict[str, Any] = {
        "trade_id": str(record.trade_id),
        "user_id": record.user_id,
        "channel_id": record.channel_id,
        "source": record.source,
        "account": record.account,
        "symbol": record.symbol,
        "side": record.trade_type,
        "quantity": _text(record.quantity),
        "notional": _text(record.notional),
        "order_type": record.order_type,
        "limit_price": _text(record.price),
        "stop_price": _text(record.stop_price),
        "trail_price": _text(record.trail_price),
        "trail_percent": _text(record.trail_percent),
        "time_in_force": record.time_in_force,
        "extended_hours": "true" if record.extended_hours else "false",
        "status": record.status,
        "execution_method": record.execution_method,
        "alpaca_order_id": record.alpaca_order_id,
        "order_status": record.order_status,
        "execution_id": _text(record.execution_id),
        "filled_quantity": _text(record.filled_quantity),
        "execution_price": _text(record.execution_price),
        "reference_price": _text(record.reference_price),
        "slippage_bps": _text(record.slippage_bps),
        "market_impact_bps": _text(record.market_impact_bps),
        "execution_time_ms": _text(record.execution_time_ms),
        "error_code": record.error_code,
        "error_message": record.error_message,
        "error_next_steps": list(record.error_next_steps),
        "rejection_reasons": [msgspec.to_builtins(reason) for reason in record.rejection_reasons],
        "submitted_at": _moment(record.timestamp),
        **stages,
        "fill_count": len(record.fills),
        "fills": [
            {"quantity": str(f.quantity), "price": str(f.price), "timestamp": _moment(f.timestamp)}
            for f in record.fills
        ],
        "audit_event_count": len(audit),
        "audit_events": [_audit_builtins(event) for event in audit],
    }
    return row


class Redactor:
    """Masks the secrets (and anything shaped like a credential) in a row's values.

    Most rows hold nothing to mask, so a row is first looked at once as encoded JSON, and only a row
    where something matched is walked value by value; masking values rather than the encoded text keeps
    the JSON and CSV quoting intact.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple(secrets)
        # A secret holding a quote or a backslash reads escaped in JSON: look for that form too.
        escaped = (_encoder.encode(secret).decode()[1:-1] for secret in self._secrets)
        self._needles = (*self._secrets, *escaped)

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        encoded = _encoder.encode(row).decode()
        if redact(encoded, self._needles) == encoded:
            return row
        cleaned: dict[str, Any] = self._clean(row)
        return cleaned

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, self._secrets)
        if isinstance(value, dict):
            return {self._clean(k): self._clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._clean(v) for v in value]
        return value


class RowWriter:
    """Writes rows to `out` as CSV (a header first) or JSON lines."""

    def __init__(self, out: TextIO, report_format: ReportFormat) -> None:
        self._out = out
        self._format = report_format
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")  # RFC 4180
        if report_format == "csv":
            self._csv.writerow(COLUMNS)
            self._flush_buffer()

    def write(self, row: dict[str, Any]) -> None:
        if self._format == "jsonl":
            self._out.write(_encoder.encode(row).decode())
            self._out.write("\n")
            return
        self._csv.writerow([_cell(column, row[column]) for column in COLUMNS])
        self._flush_buffer()

    def _flush_buffer(self) -> None:
        self._out.write(self._buffer.getvalue())
        self._buffer.seek(0)
        self._buffer.truncate()


def _event_time(events: dict[str, AuditEvent], event_type: str) -> datetime | None:
    event = events.get(event_type)
    return None if event is None else event.timestamp


def _audit_builtins(event: AuditEvent) -> dict[str, Any]:
    item: dict[str, Any] = msgspec.to_builtins(event)
    item.pop("trade_id", None)  # the row's own
    item["timestamp"] = _moment(event.timestamp)
    return item


def _moment(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _cell(column: str, value: Any) -> str:
    if column in _LIST_COLUMNS:
        return "" if not value else _encoder.encode(value).decode()
    return "" if value is None else str(value)
