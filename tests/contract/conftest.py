"""The store under contract: one fixture, three backends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aioboto3
import pytest

from tests.fixtures_dynamo import CACHE_DIR, open_dynamo_store
from workers.console.stack.local_dynamodb import free_port, start_local_dynamodb
from workers.store.memory.store import MemoryTradeStore
from workers.store.port import TradeStore


@pytest.fixture(params=["memory", "moto", "dynamodb-local"])
async def store(request: pytest.FixtureRequest, table_prefix: str) -> AsyncIterator[TradeStore]:
    trade_store: TradeStore
    if request.param == "memory":
        trade_store = MemoryTradeStore()
    else:
        endpoint = request.getfixturevalue(
            "moto_endpoint" if request.param == "moto" else "dynamodb_local_endpoint"
        )
        trade_store = await open_dynamo_store(endpoint, table_prefix)
    await trade_store.create_tables()
    yield trade_store
    await trade_store.close()


@pytest.fixture(params=["moto", "dynamodb-local"])
def dynamodb_endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each real DynamoDB engine, for tests that reach past the port (a table laid out by an older version).

    DynamoDB Local gets an instance of the test's own: once 7 or more tables with TTL enabled have existed
    for a few seconds, DynamoDB Local never finishes an index added by UpdateTable (it stays CREATING; seen
    on 3.3.0), and the session's shared instance holds dozens of such tables by then.
    """
    if request.param == "moto":
        yield request.getfixturevalue("moto_endpoint")
        return
    request.getfixturevalue("dynamodb_local_endpoint")  # skips (or fails in CI) when it cannot run
    local = start_local_dynamodb(cache_dir=CACHE_DIR, data_dir=None, port=free_port(), allow_moto=False)
    try:
        yield local.endpoint_url
    finally:
        local.stop()


@pytest.fixture
async def old_tables_client(dynamodb_endpoint: str) -> AsyncIterator[Any]:
    """A DynamoDB client on `dynamodb_endpoint`, to lay tables out as older versions did."""
    async with aioboto3.Session().client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=dynamodb_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as dynamodb:
        yield dynamodb
