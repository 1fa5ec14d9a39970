"""Tables an older tradeflow created gain the open-trades index at start, from several processes at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aioboto3
import pytest

from tests.contract.builders import EXECUTED, NOW, WORKING, a_trade, audit, executed, pending, working
from workers.store.dynamodb import DynamoTradeStore
from workers.store.items import to_attributes
from workers.store.tables import OPEN_TRADES_INDEX, TableNames


def trades_table_before_the_index(name: str) -> dict[str, Any]:
    """The trades table as tradeflow created it before the open-trades index existed."""
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": "trade_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "trade_id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


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


async def open_store(endpoint: str, table_prefix: str) -> DynamoTradeStore:
    return await DynamoTradeStore.open(
        table_prefix=table_prefix,
        region="us-east-1",
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
    )


async def test_create_tables_adds_the_index_to_an_old_trades_table(
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
    stores = [await open_store(dynamodb_endpoint, table_prefix) for _ in range(3)]
    try:
        # A deadline of the test's own: create_tables waits up to 15 minutes for an index on DynamoDB.
        await asyncio.wait_for(asyncio.gather(*(store.create_tables() for store in stores)), timeout=60)
        described = await client.describe_table(TableName=trades_table)
        assert [(i["IndexName"], i["IndexStatus"]) for i in described["Table"]["GlobalSecondaryIndexes"]] == [
            (OPEN_TRADES_INDEX, "ACTIVE")
        ]
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
    finally:
        for store in stores:
            await store.close()
