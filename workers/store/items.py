"""Records to DynamoDB attribute values and back, keeping every Decimal exact and refusing floats."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from messages.codec import from_item, to_item

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
