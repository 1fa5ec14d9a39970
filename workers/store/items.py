"""Records to DynamoDB attribute values and back, keeping every Decimal exact and refusing floats."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from messages.codec import from_item, to_item
from messages.records import TradeRecord
from workers.store.tables import OPEN_SORT_ATTRIBUTE, OPEN_STATUS_ATTRIBUTE, USER_SORT_ATTRIBUTE

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


_INDEX_ATTRIBUTES = (OPEN_STATUS_ATTRIBUTE, OPEN_SORT_ATTRIBUTE, USER_SORT_ATTRIBUTE)


def trade_attributes(record: TradeRecord) -> dict[str, Any]:
    """The trade item with its index keys: the user-trades sort key always, and while the trade is open
    the keys of the sparse open-trades index.

    Every put of a trade goes through here, so an item is in the open-trades index exactly while its status
    is open, and in the user-trades index from its first put (under `user_id`, which the record carries).
    """
    sort_key = submitted_sort_key(record)
    if not record.is_open:
        return to_attributes(record, **{USER_SORT_ATTRIBUTE: sort_key})
    return to_attributes(
        record,
        **{
            OPEN_STATUS_ATTRIBUTE: record.status,
            OPEN_SORT_ATTRIBUTE: sort_key,
            USER_SORT_ATTRIBUTE: sort_key,
        },
    )


def trade_from_attributes(attributes: dict[str, Any]) -> TradeRecord:
    """The trade record of a trade item, without the index keys (they are the store's, not the record's)."""
    fields = {name: value for name, value in attributes.items() if name not in _INDEX_ATTRIBUTES}
    return from_attributes(fields, TradeRecord)


def submitted_sort_key(record: TradeRecord) -> str:
    """Fixed-width UTC submission time, then the trade id: sorts by time and never ties.

    The record's own `timestamp` string does not sort by time (offsets vary; msgspec drops a zero fraction).
    Both trade indexes sort on it: open trades oldest first, a trader's trades newest first.
    """
    return f"{_as_utc(record.timestamp):%Y-%m-%dT%H:%M:%S.%f}Z#{record.trade_id}"


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
