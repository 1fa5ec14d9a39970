"""The DynamoDB tables tradeflow keeps, as data: names from a prefix and their CreateTable requests."""

from __future__ import annotations

import re
from typing import Any

import msgspec

TTL_ATTRIBUTE = "expires_at"
KILL_SWITCH_KEY = "kill_switch"

# DynamoDB table names are 3-255 of [A-Za-z0-9_.-]; the longest suffix we add is "-positions".
_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


class TableNames(msgspec.Struct, frozen=True, kw_only=True):
    """The four table names for one deployment prefix."""

    prefix: str
    trades: str
    positions: str
    audit: str
    control: str

    @classmethod
    def from_prefix(cls, prefix: str) -> TableNames:
        if not _PREFIX_PATTERN.match(prefix):
            raise ValueError(f"table prefix must be 1-200 characters of [A-Za-z0-9_.-], got {prefix!r}")
        return cls(
            prefix=prefix,
            trades=f"{prefix}-trades",
            positions=f"{prefix}-positions",
            audit=f"{prefix}-audit",
            control=f"{prefix}-control",
        )


class TableDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """One table: its CreateTable request and the attribute TTL expires items by, if any."""

    name: str
    create_request: dict[str, Any]
    ttl_attribute: str | None = None


def _create_request(name: str, hash_key: str, range_key: str | None = None) -> dict[str, Any]:
    key_schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
    if range_key is not None:
        key_schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": range_key, "AttributeType": "S"})
    return {
        "TableName": name,
        "KeySchema": key_schema,
        "AttributeDefinitions": attributes,
        "BillingMode": "PAY_PER_REQUEST",
    }


def table_definitions(names: TableNames) -> tuple[TableDefinition, ...]:
    """Every table tradeflow needs; trades and audit expire through TTL on `expires_at`."""
    return (
        TableDefinition(
            name=names.trades,
            create_request=_create_request(names.trades, "trade_id"),
            ttl_attribute=TTL_ATTRIBUTE,
        ),
        TableDefinition(
            name=names.positions,
            create_request=_create_request(names.positions, "user_id", "symbol"),
        ),
        TableDefinition(
            name=names.audit,
            create_request=_create_request(names.audit, "trade_id", "event_key"),
            ttl_attribute=TTL_ATTRIBUTE,
        ),
        TableDefinition(
            name=names.control,
            create_request=_create_request(names.control, "key"),
        ),
    )
