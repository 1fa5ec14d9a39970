"""A table an older tradeflow created gains the first index at start, from several processes at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from tests.contract.builders import EXECUTED, NOW, WORKING, a_trade, audit, executed, pending, working
from tests.contract.old_tables import ALL_ACTIVE, index_states, trades_table_before_the_index
from tests.fixtures_dynamo import open_dynamo_store
from workers.store.dynamodb.items import to_attributes
from workers.store.dynamodb.tables import TableNames


async def test_create_tables_adds_the_indexes_to_an_old_trades_table(
    old_tables_client: Any, dynamodb_endpoint: str, table_prefix: str
) -> None:
    trades_table = TableNames.from_prefix(table_prefix).trades
    await old_tables_client.create_table(**trades_table_before_the_index(trades_table))
    # Written by the old version: no index keys on the item.
    old_pending = pending()
    await old_tables_client.put_item(TableName=trades_table, Item=to_attributes(old_pending))
    old_other = pending()
    await old_tables_client.put_item(TableName=trades_table, Item=to_attributes(old_other))

    # Several processes start at once, each creating what is missing.
    stores = [await open_dynamo_store(dynamodb_endpoint, table_prefix, max_attempts=1) for _ in range(3)]
    try:
        # A deadline of the test's own: create_tables waits up to 15 minutes for an index on DynamoDB.
        await asyncio.wait_for(asyncio.gather(*(store.create_tables() for store in stores)), timeout=60)
        assert await index_states(old_tables_client, trades_table) == ALL_ACTIVE
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
