"""Items as DynamoDB stores them, for the memory store: serialized, numbers without trailing zeros.

Keeping items serialized means what the memory store accepts DynamoDB accepts too: floats are refused and
Decimals stay exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from messages.records import TradeRecord
from workers.store.dynamodb.items import (
    from_attributes,
    to_attributes,
    trade_attributes,
    trade_from_attributes,
)

T = TypeVar("T")

Item = dict[str, Any]


def as_stored(item: Item) -> Item:
    """The item as DynamoDB gives it back: numbers lose trailing zeros ("1.50" reads back as "1.5")."""
    return {name: _normalize(value) for name, value in item.items()}


def stored_attributes(record: msgspec.Struct) -> Item:
    """The record serialized as DynamoDB stores it."""
    return as_stored(to_attributes(record))


def stored_trade(record: TradeRecord) -> Item:
    """The trade item as DynamoTradeStore writes it, open-trades index keys included."""
    return as_stored(trade_attributes(record))


def load(item: Item | None, kind: type[T]) -> T | None:
    return None if item is None else from_attributes(item, kind)


def load_trade(item: Item | None) -> TradeRecord | None:
    return None if item is None else trade_from_attributes(item)


def _normalize(value: Any) -> Any:
    if "N" in value:
        number = Decimal(value["N"]).normalize()
        return {"N": "0" if number.is_zero() else format(number, "f")}
    if "L" in value:
        return {"L": [_normalize(element) for element in value["L"]]}
    if "M" in value:
        return {"M": {name: _normalize(element) for name, element in value["M"].items()}}
    return value
