"""Trades tables as older tradeflow versions laid them out, for the table-upgrade contract tests (one
module per upgrade, so pytest-xdist runs them side by side: on moto each takes about ten seconds)."""

from __future__ import annotations

from typing import Any

from workers.store.dynamodb.items import trade_attributes
from workers.store.dynamodb.tables import (
    OPEN_TRADES,
    OPEN_TRADES_INDEX,
    TRADES_BY_DAY_INDEX,
    USER_TRADES,
    USER_TRADES_INDEX,
)

ALL_ACTIVE = sorted((name, "ACTIVE") for name in (OPEN_TRADES_INDEX, USER_TRADES_INDEX, TRADES_BY_DAY_INDEX))


def trades_table_before_the_index(name: str) -> dict[str, Any]:
    """The trades table as tradeflow created it before the open-trades index existed."""
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": "trade_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "trade_id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def trades_table_before_user_trades(name: str) -> dict[str, Any]:
    """The trades table as tradeflow created it with the open-trades index and before the user-trades one."""
    return {
        **trades_table_before_the_index(name),
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": "S"}
            for attribute in ("trade_id", OPEN_TRADES.hash_key, OPEN_TRADES.range_key)
        ],
        "GlobalSecondaryIndexes": [OPEN_TRADES.create_request],
    }


def trades_table_before_trades_by_day(name: str) -> dict[str, Any]:
    """The trades table as tradeflow created it with the open-trades and user-trades indexes."""
    return {
        **trades_table_before_the_index(name),
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": "S"}
            for attribute in (
                "trade_id",
                OPEN_TRADES.hash_key,
                OPEN_TRADES.range_key,
                USER_TRADES.hash_key,
                USER_TRADES.range_key,
            )
        ],
        "GlobalSecondaryIndexes": [OPEN_TRADES.create_request, USER_TRADES.create_request],
    }


def item_before_trades_by_day(record: Any) -> dict[str, Any]:
    """A trade item as the version with the open-trades and user-trades indexes wrote it."""
    item = trade_attributes(record)
    del item["trade_day"], item["day_sort_key"]
    return item


def item_before_user_trades(record: Any) -> dict[str, Any]:
    """A trade item as the version with only the open-trades index wrote it."""
    item = item_before_trades_by_day(record)
    del item["user_sort_key"]
    return item


async def index_states(client: Any, table: str) -> list[tuple[str, str]]:
    described = await client.describe_table(TableName=table)
    return sorted((i["IndexName"], i["IndexStatus"]) for i in described["Table"]["GlobalSecondaryIndexes"])
