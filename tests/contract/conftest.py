"""The store under contract: one fixture, three backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from workers.store.dynamodb import DynamoTradeStore
from workers.store.memory import MemoryTradeStore
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
        trade_store = await DynamoTradeStore.open(
            table_prefix=table_prefix,
            region="us-east-1",
            endpoint_url=endpoint,
            access_key_id="testing",
            secret_access_key="testing",
        )
    await trade_store.create_tables()
    yield trade_store
    await trade_store.close()


@pytest.fixture(params=["moto", "dynamodb-local"])
def dynamodb_endpoint(request: pytest.FixtureRequest) -> str:
    """The URL of each real DynamoDB engine, for tests that must reach past the port (old table layouts)."""
    endpoint: str = request.getfixturevalue(
        "moto_endpoint" if request.param == "moto" else "dynamodb_local_endpoint"
    )
    return endpoint
