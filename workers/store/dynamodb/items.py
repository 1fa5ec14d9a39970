"""Records to DynamoDB attribute values and back, keeping every Decimal exact and refusing floats."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from messages.codec import from_item, to_item
from messages.records import TradeRecord
from workers.store.dynamodb.tables import (
    DAY_SORT_ATTRIBUTE,
    OPEN_SORT_ATTRIBUTE,
    OPEN_STATUS_ATTRIBUTE,
    TRADE_DAY_ATTRIBUTE,
    USER_SORT_ATTRIBUTE,
)

T = TypeVar("T")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(record: msgspec.Struct, **extra: str) -> dict[str, Any]:
    """The record as a DynamoDB item (`{"field": {"S": ...}}`), plus `extra` string attributes."""
    item = to_item(record)
    item.update(extra)
    attributes: dict[str, Any] = {}
    for name, value in item.items():
        try:
            attributes[name] = _serializer.serialize(value)
        except (TypeError, ArithmeticError) as exc:
            # Floats are refused on purpose (money is Decimal); so are NaN and > 38 digits.
            raise TypeError(f"{type(record).__name__}.{name} cannot be stored in DynamoDB: {exc}") from exc
    return attributes


def from_attributes(attributes: dict[str, Any], kind: type[T]) -> T:
    """Rebuild a record of `kind` from a DynamoDB item; numbers come back as exact Decimals."""
    item = {name: _deserializer.deserialize(value) for name, value in attributes.items()}
    # DynamoDB has one number type; msgspec will not turn a Decimal into an int by itself.
    for name in _int_fields(kind):  # type: ignore[arg-type]
        value = item.get(name)
        if isinstance(value, Decimal):
            item[name] = int(value)
    return from_item(item, kind)


_INDEX_ATTRIBUTES = (
    OPEN_STATUS_ATTRIBUTE,
    OPEN_SORT_ATTRIBUTE,
    USER_SORT_ATTRIBUTE,
    TRADE_DAY_ATTRIBUTE,
    DAY_SORT_ATTRIBUTE,
)


def trade_attributes(record: TradeRecord) -> dict[str, Any]:
    """The trade item with its index keys: the user-trades and trades-by-day keys always, and while the
    trade is open the keys of the sparse open-trades index.

    Every put of a trade goes through here, so an item is in the open-trades index exactly while its status
    is open, and in the user-trades (under `user_id`, which the record carries) and trades-by-day indexes
    from its first put. A trade without `expires_at` is refused: every trade is kept for the retention
    period and no longer (TTL), so none may be written that TTL would keep forever.
    """
    if record.expires_at is None:
        raise ValueError(f"trade {record.trade_id} has no expires_at: set it from the retention period")
    sort_key = submitted_sort_key(record)
    keys = {
        USER_SORT_ATTRIBUTE: sort_key,
        TRADE_DAY_ATTRIBUTE: trade_day(record.timestamp),
        DAY_SORT_ATTRIBUTE: sort_key,
    }
    if record.is_open:
        keys |= {OPEN_STATUS_ATTRIBUTE: record.status, OPEN_SORT_ATTRIBUTE: sort_key}
    return to_attributes(record, **keys)


def trade_from_attributes(attributes: dict[str, Any]) -> TradeRecord:
    """The trade record of a trade item, without the index keys (they are the store's, not the record's)."""
    fields = {name: value for name, value in attributes.items() if name not in _INDEX_ATTRIBUTES}
    return from_attributes(fields, TradeRecord)


def submitted_sort_key(record: TradeRecord) -> str:
    """Fixed-width UTC submission time, then the trade id: sorts by time and never ties.

    The record's own `timestamp` string does not sort by time (offsets vary; msgspec drops a zero fraction).
    Every trade index sorts on it: open trades oldest first, a trader's trades newest first, a day's trades
    oldest first.
    """
    return f"{_moment_key(record.timestamp)}#{record.trade_id}"


def trade_day(moment: datetime) -> str:
    """The UTC date of `moment`, "YYYY-MM-DD": the trades-by-day partition a trade submitted then is in."""
    return f"{_as_utc(moment):%Y-%m-%d}"


def day_sort_bounds(since: datetime, until: datetime) -> tuple[list[str], str, str]:
    """The UTC days a window [since, until) touches, oldest first, and its bounds on `submitted_sort_key`.

    A sort key is a moment key plus "#<trade id>", so it sorts after its own moment's key: every key from
    `since` on is >= the lower bound, and every key before `until` is < the upper bound, none equal to it.
    Both bounds hold on every day, so a Query per day can use one BETWEEN.
    """
    if until <= since:
        return [], _moment_key(since), _moment_key(until)
    first = _as_utc(since).date()
    last = (_as_utc(until) - timedelta(microseconds=1)).date()  # `until` itself is outside the window
    days = [f"{first + timedelta(days=n):%Y-%m-%d}" for n in range((last - first).days + 1)]
    return days, _moment_key(since), _moment_key(until)


def activity_key(stream: str, moment: datetime, event_id: object) -> tuple[str, str]:
    """An activity journal entry's audit-table key: partition `<stream>#<UTC day>`, sort `<moment>#<id>`.

    The sort key is `submitted_sort_key`'s shape, so `day_sort_bounds` bounds a window on it too.
    """
    return f"{stream}#{trade_day(moment)}", f"{_moment_key(moment)}#{event_id}"


def _moment_key(moment: datetime) -> str:
    return f"{_as_utc(moment):%Y-%m-%dT%H:%M:%S.%f}Z"


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def key(**parts: str) -> dict[str, Any]:
    """A primary key of string attributes, e.g. `key(trade_id=...)`."""
    return {name: {"S": value} for name, value in parts.items()}


@functools.cache
def _int_fields(kind: type) -> tuple[str, ...]:
    return tuple(
        field.name
        for field in msgspec.structs.fields(kind)
        if field.type is int or field.type == (int | None)
    )
