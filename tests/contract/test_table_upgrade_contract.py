"""Tables an older tradeflow created gain the missing indexes at start, from several processes at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aioboto3
import pytest

from tests.contract.builders import EXECUTED, NOW, WORKING, a_trade, audit, executed, pending, working
from tests.fixtures_dynamo import open_dynamo_store
from workers.store.dynamodb.items import to_attributes, trade_attributes
from workers.store.dynamodb.tables import (
    OPEN_SORT_ATTRIBUTE,
    OPEN_TRADES,
    OPEN_TRADES_INDEX,
    TRADES_BY_DAY_INDEX,
    USER_TRADES,
    USER_TRADES_INDEX,
    TableNames,
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


@pytest.fixture
async def client(dynamodb_endpoint: str) -> AsyncIterator[Any]:
    async with aioboto3.Session().client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=dynamodb_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as dynamodb:
        yield dynamodb


async def test_create_tables_adds_the_indexes_to_an_old_trades_table(
    client: Any, dynamodb_endpoint: str, table_prefix: str
) -> None:
    trades_table = TableNames.from_prefix(table_prefix).trades
    await client.create_table(**trades_table_before_the_index(trades_table))
    # Written by the old version: no index keys on the item.
    old_pending = pending()
    await client.put_item(TableName=trades_table, Item=to_attributes(old_pending))
    old_other = pending()
    await client.put_item(TableName=trades_table, Item=to_attributes(old_other))

    # Several processes start at once, each creating what is missing.
    stores = [await open_dynamo_store(dynamodb_endpoint, table_prefix) for _ in range(3)]
    try:
        # A deadline of the test's own: create_tables waits up to 15 minutes for an index on DynamoDB.
        await asyncio.wait_for(asyncio.gather(*(store.create_tables() for store in stores)), timeout=60)
        assert await index_states(client, trades_table) == ALL_ACTIVE
        store = stores[0]
        await store.create_tables()  # and again, now that it is there

        # A trade the old version left open joins the index at its next write.
        assert await store.get_trade(old_pending.trade_id) == old_pending
        assert await store.list_open_trades(["pending"]) == []
        resting = working(old_pending, "1")
        assert await store.record_progress(resting, audit(old_pending.trade_id, WORKING)) is None
        assert await store.list_open_trades() == [resting]

        # An old open trade is still open to its outcome, and new trades are indexed from their first put.
        done = executed(old_other)
        assert await store.record_outcome(done, audit(old_other.trade_id, EXECUTED)) is None
        assert await store.get_trade(old_other.trade_id) == done
        new = pending(a_trade(submitted_at=NOW + timedelta(seconds=1)))
        assert await store.put_new_trade(new, []) is None
        assert await store.list_open_trades(["pending", "working"]) == [resting, new]
        # Both old trades were written again, so they joined the user-trades index too (submitted at the
        # same moment, they tie-break on the trade id).
        newest, *same_moment = await store.list_user_trades("U123")
        assert newest == new
        assert sorted(same_moment, key=lambda r: str(r.trade_id), reverse=True) == same_moment
        assert {r.trade_id for r in same_moment} == {resting.trade_id, done.trade_id}
        assert await store.list_trades_since(NOW, NOW + timedelta(minutes=1)) == [*same_moment[::-1], new]
    finally:
        for store in stores:
            await store.close()


async def test_create_tables_adds_user_trades_to_a_table_that_has_open_trades(
    client: Any, dynamodb_endpoint: str, table_prefix: str
) -> None:
    trades_table = TableNames.from_prefix(table_prefix).trades
    await client.create_table(**trades_table_before_user_trades(trades_table))
    old_open = pending(a_trade(submitted_at=NOW))
    old_done = executed(pending(a_trade(submitted_at=NOW + timedelta(seconds=1))))
    for record in (old_open, old_done):
        item = item_before_user_trades(record)
        assert (OPEN_SORT_ATTRIBUTE in item) == record.is_open
        await client.put_item(TableName=trades_table, Item=item)

    stores = [await open_dynamo_store(dynamodb_endpoint, table_prefix) for _ in range(3)]
    try:
        await asyncio.wait_for(asyncio.gather(*(store.create_tables() for store in stores)), timeout=60)
        assert await index_states(client, trades_table) == ALL_ACTIVE
        store = stores[0]
        await store.create_tables()

        # The open-trades index still answers, and its old open trade is listed there.
        assert await store.list_open_trades(["pending"]) == [old_open]
        # An item untouched since the old version has no user-trades key: not listed (port docstring).
        assert await store.list_user_trades("U123") == []
        # The old open trade joins the user-trades index at its next write; new trades from their first.
        resting = working(old_open)
        assert await store.record_progress(resting, audit(old_open.trade_id, WORKING)) is None
        new = pending(a_trade(submitted_at=NOW + timedelta(seconds=2)))
        assert await store.put_new_trade(new, []) is None
        assert await store.list_user_trades("U123") == [new, resting]
        assert await store.list_trades_since(NOW, NOW + timedelta(minutes=1)) == [resting, new]
        assert await store.get_trade(old_done.trade_id) == old_done
    finally:
        for store in stores:
            await store.close()


async def test_create_tables_adds_trades_by_day_to_a_table_that_has_the_other_indexes(
    client: Any, dynamodb_endpoint: str, table_prefix: str
) -> None:
    trades_table = TableNames.from_prefix(table_prefix).trades
    await client.create_table(**trades_table_before_trades_by_day(trades_table))
    old_open = pending(a_trade(submitted_at=NOW))
    old_done = executed(pending(a_trade(submitted_at=NOW + timedelta(seconds=1))))
    for record in (old_open, old_done):
        await client.put_item(TableName=trades_table, Item=item_before_trades_by_day(record))

    stores = [await open_dynamo_store(dynamodb_endpoint, table_prefix) for _ in range(3)]
    try:
        await asyncio.wait_for(asyncio.gather(*(store.create_tables() for store in stores)), timeout=60)
        assert await index_states(client, trades_table) == ALL_ACTIVE
        store = stores[0]
        await store.create_tables()

        # The older indexes still answer for the old items.
        assert await store.list_open_trades(["pending"]) == [old_open]
        assert await store.list_user_trades("U123") == [old_done, old_open]
        # Items untouched since the old version have no trades-by-day key: not listed (port docstring).
        window = (NOW, NOW + timedelta(minutes=1))
        assert await store.list_trades_since(*window) == []
        # The old open trade joins the index at its next write; new trades from their first.
        done = executed(old_open)
        assert await store.record_outcome(done, audit(old_open.trade_id, EXECUTED)) is None
        new = pending(a_trade(submitted_at=NOW + timedelta(seconds=2)))
        assert await store.put_new_trade(new, []) is None
        assert await store.list_trades_since(*window) == [done, new]
    finally:
        for store in stores:
            await store.close()
