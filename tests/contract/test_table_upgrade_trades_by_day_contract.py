"""A table an older tradeflow created gains the trades-by-day index at start, from processes at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from tests.contract.builders import EXECUTED, NOW, a_trade, audit, executed, pending
from tests.contract.old_tables import (
    ALL_ACTIVE,
    index_states,
    item_before_trades_by_day,
    trades_table_before_trades_by_day,
)
from tests.fixtures_dynamo import open_dynamo_store
from workers.store.dynamodb.tables import TableNames


async def test_create_tables_adds_trades_by_day_to_a_table_that_has_the_other_indexes(
    old_tables_client: Any, dynamodb_endpoint: str, table_prefix: str
) -> None:
    trades_table = TableNames.from_prefix(table_prefix).trades
    await old_tables_client.create_table(**trades_table_before_trades_by_day(trades_table))
    old_open = pending(a_trade(submitted_at=NOW))
    old_done = executed(pending(a_trade(submitted_at=NOW + timedelta(seconds=1))))
    for record in (old_open, old_done):
        await old_tables_client.put_item(TableName=trades_table, Item=item_before_trades_by_day(record))

    stores = [await open_dynamo_store(dynamodb_endpoint, table_prefix, max_attempts=1) for _ in range(3)]
    try:
        await asyncio.wait_for(asyncio.gather(*(store.create_tables() for store in stores)), timeout=60)
        assert await index_states(old_tables_client, trades_table) == ALL_ACTIVE
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
