"""The DynamoDB tables tradeflow keeps, as data: names from a prefix and their CreateTable requests."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import msgspec

TTL_ATTRIBUTE = "expires_at"
KILL_SWITCH_KEY = "kill_switch"
ROSTER_KEY = "roles"  # the control-table item holding every user's roles
HEARTBEATS_KEY = "heartbeats"  # the control-table item holding every process's last heartbeat
LIMITS_KEY = "limits"  # the control-table item holding every scope's risk limits
ALERT_PREFERENCES_KEY = "alert_preferences"  # the item holding the desk's and each trader's alert choice
MARKER_PREFIX = "done#"  # a once-marker is the item `done#<name>`, removed by TTL on expires_at
# The sparse open-trades index: both attributes are on a trade item only while its status is open.
OPEN_TRADES_INDEX = "open-trades"
OPEN_STATUS_ATTRIBUTE = "open_status"
OPEN_SORT_ATTRIBUTE = "open_sort_key"
# The user-trades index: every trade item carries both attributes, so a trader's trades list newest first.
USER_TRADES_INDEX = "user-trades"
USER_ATTRIBUTE = "user_id"
USER_SORT_ATTRIBUTE = "user_sort_key"
# The trades-by-day index: every trade item carries both, so a time window reads one partition per UTC day.
TRADES_BY_DAY_INDEX = "trades-by-day"
TRADE_DAY_ATTRIBUTE = "trade_day"
DAY_SORT_ATTRIBUTE = "day_sort_key"

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


class GlobalIndex(msgspec.Struct, frozen=True, kw_only=True):
    """A global secondary index projecting whole items, keyed by string attributes."""

    name: str
    hash_key: str
    range_key: str

    @property
    def key_schema(self) -> list[dict[str, str]]:
        return _key_schema(self.hash_key, self.range_key)

    @property
    def create_request(self) -> dict[str, Any]:
        """The index as CreateTable's GlobalSecondaryIndexes and UpdateTable's `Create` spell it."""
        return {"IndexName": self.name, "KeySchema": self.key_schema, "Projection": {"ProjectionType": "ALL"}}


class TableDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """One table: its CreateTable request, its global indexes and the attribute TTL expires items by."""

    name: str
    create_request: dict[str, Any]
    indexes: tuple[GlobalIndex, ...] = ()
    ttl_attribute: str | None = None

    def add_index_request(self, index: GlobalIndex) -> dict[str, Any]:
        """The UpdateTable request that adds `index` to a table created without it.

        It defines only the table's and this index's key attributes: another index's keys would be
        definitions no key uses yet, which DynamoDB refuses.
        """
        wanted = {key["AttributeName"] for key in [*self.create_request["KeySchema"], *index.key_schema]}
        return {
            "TableName": self.name,
            "AttributeDefinitions": [
                attribute
                for attribute in self.create_request["AttributeDefinitions"]
                if attribute["AttributeName"] in wanted
            ],
            "GlobalSecondaryIndexUpdates": [{"Create": index.create_request}],
        }


OPEN_TRADES = GlobalIndex(
    name=OPEN_TRADES_INDEX, hash_key=OPEN_STATUS_ATTRIBUTE, range_key=OPEN_SORT_ATTRIBUTE
)
USER_TRADES = GlobalIndex(name=USER_TRADES_INDEX, hash_key=USER_ATTRIBUTE, range_key=USER_SORT_ATTRIBUTE)
TRADES_BY_DAY = GlobalIndex(
    name=TRADES_BY_DAY_INDEX, hash_key=TRADE_DAY_ATTRIBUTE, range_key=DAY_SORT_ATTRIBUTE
)
TRADE_INDEXES = (OPEN_TRADES, USER_TRADES, TRADES_BY_DAY)


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    key_schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key is not None:
        key_schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return key_schema


class Encryption(msgspec.Struct, frozen=True, kw_only=True):
    """Encryption at rest with KMS: the AWS managed key (aws/dynamodb), or the customer managed key named."""

    kms_key_id: str | None = None

    @property
    def sse_specification(self) -> dict[str, Any]:
        """CreateTable's SSESpecification."""
        specification: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
        if self.kms_key_id:
            specification["KMSMasterKeyId"] = self.kms_key_id
        return specification


def encryption_for(endpoint_url: str | None, kms_key_id: str | None) -> Encryption | None:
    """KMS encryption when the tables are on AWS (no endpoint, or an amazonaws.com host), else none.

    DynamoDB Local accepts an SSESpecification and ignores it (its DescribeTable reports none) and encrypts
    nothing, so tradeflow sends it only where it means something.
    """
    if endpoint_url is None:
        return Encryption(kms_key_id=kms_key_id)
    host = (urlsplit(endpoint_url).hostname or "").lower()
    on_aws = host.endswith((".amazonaws.com", ".amazonaws.com.cn"))
    return Encryption(kms_key_id=kms_key_id) if on_aws else None


def _create_request(
    name: str,
    hash_key: str,
    range_key: str | None = None,
    indexes: tuple[GlobalIndex, ...] = (),
    encryption: Encryption | None = None,
) -> dict[str, Any]:
    key_attributes = [hash_key, *([range_key] if range_key else [])]
    for index in indexes:
        key_attributes += [index.hash_key, index.range_key]
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": _key_schema(hash_key, range_key),
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": "S"} for attribute in dict.fromkeys(key_attributes)
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = [index.create_request for index in indexes]
    if encryption is not None:
        request["SSESpecification"] = encryption.sse_specification
    return request


def table_definitions(names: TableNames, encryption: Encryption | None = None) -> tuple[TableDefinition, ...]:
    """Every table tradeflow needs, encrypted at rest with KMS when `encryption` is given.

    Trades, audit items and control items expire through TTL on `expires_at` (an item without it never
    does: the kill switch, the roles); positions do not, being what a trader holds now.

    The trades table carries the sparse `open-trades` index (open trades by status, oldest first), the
    `user-trades` index (a trader's trades by submission time) and the `trades-by-day` index (every trade
    under its UTC submission day, by submission time).
    """
    return (
        TableDefinition(
            name=names.trades,
            create_request=_create_request(
                names.trades, "trade_id", indexes=TRADE_INDEXES, encryption=encryption
            ),
            indexes=TRADE_INDEXES,
            ttl_attribute=TTL_ATTRIBUTE,
        ),
        TableDefinition(
            name=names.positions,
            create_request=_create_request(names.positions, "user_id", "symbol", encryption=encryption),
        ),
        TableDefinition(
            name=names.audit,
            create_request=_create_request(names.audit, "trade_id", "event_key", encryption=encryption),
            ttl_attribute=TTL_ATTRIBUTE,
        ),
        TableDefinition(
            name=names.control,
            create_request=_create_request(names.control, "key", encryption=encryption),
            ttl_attribute=TTL_ATTRIBUTE,  # leases expire; the kill switch and the roles have no expires_at
        ),
    )
