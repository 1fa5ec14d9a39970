"""Tables a finished contract test emptied, handed to the next test on the same engine.

Each contract test on a real engine used to get four tables of its own: DescribeTable, CreateTable and
UpdateTimeToLive for each, about 0.2 s of the engine's CPU per test (40 s of `make test-fast`'s 112 s when
run serially). A contract test writes a handful of items, so emptying its tables afterwards (one Scan of the
keys and one BatchWriteItem per table) costs a fraction of that, and the next test starts on tables exactly
as empty as new ones: nothing a test wrote is left for another to see.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from workers.store.dynamodb.store import DynamoTradeStore

BATCH = 25  # BatchWriteItem's limit


class TablePool:
    """Emptied table prefixes per engine endpoint (one pool per xdist worker, whose tests run one at a
    time)."""

    def __init__(self) -> None:
        self._free: dict[str, list[str]] = defaultdict(list)
        self._keys: dict[str, list[str]] = {}

    def take(self, endpoint: str) -> str:
        """An emptied prefix on `endpoint`, or a new one (the store's `create_tables` creates its tables)."""
        free = self._free[endpoint]
        return free.pop() if free else f"t-{uuid.uuid4().hex[:8]}"

    async def give_back(self, endpoint: str, store: DynamoTradeStore) -> None:
        """Empty the store's tables and keep their prefix for the next test; a prefix that could not be
        emptied is dropped (its tables stay behind, unused)."""
        tables = store._tables
        client = store._client
        for table in (tables.trades, tables.positions, tables.audit, tables.control):
            await self._empty(client, table)
        self._free[endpoint].append(tables.prefix)

    async def _empty(self, client: Any, table: str) -> None:
        keys = await self._key_names(client, table)
        projection = ", ".join(f"#k{n}" for n in range(len(keys)))
        names = {f"#k{n}": key for n, key in enumerate(keys)}
        scan: dict[str, Any] = {
            "TableName": table,
            "ProjectionExpression": projection,
            "ExpressionAttributeNames": names,
        }
        while True:
            page = await client.scan(**scan)
            items = page.get("Items", [])
            for start in range(0, len(items), BATCH):
                requests = [{"DeleteRequest": {"Key": item}} for item in items[start : start + BATCH]]
                while requests:
                    answer = await client.batch_write_item(RequestItems={table: requests})
                    requests = answer.get("UnprocessedItems", {}).get(table, [])
            if "LastEvaluatedKey" not in page:
                return
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def _key_names(self, client: Any, table: str) -> list[str]:
        if table not in self._keys:
            described = await client.describe_table(TableName=table)
            self._keys[table] = [key["AttributeName"] for key in described["Table"]["KeySchema"]]
        return self._keys[table]
