"""A table an older tradeflow created gains the user-trades index at start, from several processes at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from tests.contract.builders import NOW, WORKING, a_trade, audit, executed, pending, working
from tests.contract.old_tables import (
    ALL_ACTIVE,
    index_states,
    item_before_user_trades,
    trades_table_before_user_trades,
)
from tests.fixtures_dynamo import open_dynamo_store
from workers.store.dynamodb.tables import OPEN_SORT_ATTRIBUTE, TableNames


async def test_create_tables_adds_user_trades_to_a_table_that_has_open_trades(
    old_tables_client: Any, dynamodb_endpoint: str, table_prefix: str
) -> None:
    trades_table = TableNames.from_prefix(table_prefix).trades
    await old_tables_client.create_table(**trades_table_before_user_trades(trades_table))
    old_open = pending(a_trade(submitted_at=NOW))
    old_done = executed(pending(a_trade(submitted_at=NOW + timedelta(seconds=1))))
    for record in (old_open, old_done):
        item = item_before_user_trades(record)
        assert (OPEN_SORT_ATTRIBUTE in item) == record.is_open
        await old_tables_client.put_item(TableName=trades_table, Item=item)

    stores = [await open_dynamo_store(dynamodb_endpoint, table_prefix, max_attempts=1) for _ in range(3)]
    try:
        await asyncio.wait_for(asyncio.gather(*(store.create_tables() for store in stores)), timeout=60)
        assert await index_states(old_tables_client, trades_table) == ALL_ACTIVE
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
