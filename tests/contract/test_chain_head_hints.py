"""On DynamoDB, a stage's chained write links after the head read with its trade, in one request fewer; a head
that another writer moved in between is read again, and the chain stays one line."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.contract.builders import EXECUTED, SUBMITTED, audit, executed, pending
from tests.contract.test_audit_chain_contract import links_in_order
from tests.fixtures_dynamo import open_dynamo_store
from workers.store.dynamodb.store import DynamoTradeStore


@pytest.fixture
async def two_stores(engine_endpoint: str, table_prefix: str) -> AsyncIterator[list[DynamoTradeStore]]:
    """Two processes' stores on the same tables: each keeps its own hints."""
    stores = [
        await open_dynamo_store(engine_endpoint, table_prefix),
        await open_dynamo_store(engine_endpoint, table_prefix),
    ]
    await stores[0].create_tables()
    yield stores
    for store in stores:
        await store.close()


class Requests:
    """The DynamoDB operations a client sends."""

    def __init__(self, store: DynamoTradeStore) -> None:
        self.sent: Counter[str] = Counter()
        store._client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.sent[model.name] += 1


async def test_a_write_after_reading_the_trade_sends_no_read_of_the_head(
    two_stores: list[DynamoTradeStore],
) -> None:
    store = two_stores[0]
    record = pending()
    await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])
    assert await store.get_trade(record.trade_id) == record
    requests = Requests(store)

    assert await store.record_outcome(executed(record), audit(record.trade_id, EXECUTED)) is None
    assert requests.sent == Counter({"TransactWriteItems": 1})
    assert await links_in_order(store, record.trade_id) == [SUBMITTED, EXECUTED]


async def test_a_head_moved_by_another_writer_since_the_read_is_read_again(
    two_stores: list[DynamoTradeStore],
) -> None:
    store, other = two_stores
    record = pending()
    await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])
    assert await store.get_trade(record.trade_id) == record  # its head: the submission
    assert await other.append_audit(audit(record.trade_id, "025#noted_elsewhere")) is True
    requests = Requests(store)

    assert await store.record_outcome(executed(record), audit(record.trade_id, EXECUTED)) is None
    assert requests.sent == Counter({"TransactWriteItems": 2, "GetItem": 1})  # refused, read, linked
    assert await links_in_order(store, record.trade_id) == [SUBMITTED, "025#noted_elsewhere", EXECUTED]
