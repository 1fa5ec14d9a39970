"""The arguments every store checks alike, so both backends refuse the same calls the same way."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from messages.records import TradeRecord
from messages.types import OPEN_STATUSES


def check_limit(limit: int) -> int:
    """Refuse a list limit below 1 (DynamoDB refuses a Query `Limit` of 0)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return limit


def open_statuses_to_list(statuses: Collection[str], limit: int) -> tuple[str, ...]:
    """Check `list_open_trades`' arguments; the statuses to query, each once, in the order given."""
    if isinstance(statuses, str):
        raise ValueError(f"statuses must be a collection of statuses, got the string {statuses!r}")
    wanted = tuple(dict.fromkeys(statuses))
    if not set(wanted) <= OPEN_STATUSES:
        raise ValueError(
            f"list_open_trades lists open statuses {sorted(OPEN_STATUSES)}, got {sorted(wanted)}"
        )
    check_limit(limit)
    return wanted


def trade_window(since: datetime, until: datetime | None, limit: int) -> tuple[datetime, datetime]:
    """Check `list_trades_since`' arguments; the window as aware UTC datetimes, `until` defaulting to now."""
    check_limit(limit)
    start = _as_utc(since)
    end = datetime.now(UTC) if until is None else _as_utc(until)
    if end < start:
        raise ValueError(f"until ({end.isoformat()}) is before since ({start.isoformat()})")
    return start, end


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_decided(record: TradeRecord) -> None:
    """Refuse a `decide_approval` record that is not decided: pending (approved) or rejected, saying so."""
    approval = record.approval
    if record.status not in ("pending", "rejected") or approval is None or approval.decision is None:
        raise ValueError(
            f"decide_approval needs a pending or rejected record with its decision, got {record.status!r}"
        )
