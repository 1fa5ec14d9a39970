"""Creating tradeflow's DynamoDB tables and their TTL: idempotent, and safe from several processes at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from botocore.exceptions import ClientError

from workers.store.dynamodb.faults import error_code, is_transient, transient_faults_as_unavailable
from workers.store.dynamodb.tables import (
    Encryption,
    GlobalIndex,
    TableDefinition,
    TableNames,
    table_definitions,
)
from workers.store.port import StoreUnavailable

TABLE_TIMEOUT_S = 120.0
# Building an index over an existing table takes minutes on DynamoDB (seconds on DynamoDB Local).
INDEX_TIMEOUT_S = 900.0
# What UpdateTable answers a process that adds an index another process is adding or has added:
# "index already exists" (ValidationException), "table/index is being updated" (ResourceInUse),
# "one index at a time per table" (LimitExceeded); moto answers a duplicate with a 500.
_INDEX_RACE_CODES = frozenset({"ValidationException", "ResourceInUseException", "LimitExceededException"})


async def create_tables(client: Any, tables: TableNames, encryption: Encryption | None = None) -> None:
    """Create the missing tables and indexes, wait until they are ACTIVE, and enable TTL where asked.

    A table is created encrypted with `encryption` (KMS) when given; a table that exists is left as it is.

    A table made by an older version lacks the newer indexes: they are added with UpdateTable. Several
    processes may run this at once; the losers of each race wait for the winner's table or index.
    """
    definitions = table_definitions(tables, encryption)
    with transient_faults_as_unavailable("create_tables"):
        for definition in definitions:
            try:
                await client.create_table(**definition.create_request)
            except ClientError as exc:
                if error_code(exc) != "ResourceInUseException":  # in use: another process made it
                    raise
        for definition in definitions:
            await _wait_until_created(client, definition.name)
            for index in definition.indexes:
                await _ensure_index(client, definition, index)
            if definition.ttl_attribute is not None:
                await _enable_ttl(client, definition.name, definition.ttl_attribute)


async def _wait_until_created(client: Any, table: str, timeout_s: float = TABLE_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            response = await client.describe_table(TableName=table)
            # UPDATING (say, another process adding an index) still serves reads and writes; the index
            # step waits for the index itself, with a deadline that allows for backfilling.
            if response["Table"]["TableStatus"] in ("ACTIVE", "UPDATING"):
                return
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":  # not visible yet right after create
                raise
        if time.monotonic() > deadline:
            raise StoreUnavailable(f"table {table} is not ACTIVE after {timeout_s:.0f} s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def _ensure_index(
    client: Any, definition: TableDefinition, index: GlobalIndex, timeout_s: float = INDEX_TIMEOUT_S
) -> None:
    """Add `index` to the table unless it is there, then wait until it is ACTIVE."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        status = await _index_status(client, definition.name, index)
        if status == "ACTIVE":
            return
        if status is None:
            try:
                await client.update_table(**definition.add_index_request(index))
            except ClientError as exc:
                if error_code(exc) not in _INDEX_RACE_CODES and not is_transient(exc):
                    raise
                # Lost a race, or the table is busy: look again, and let a real refusal through.
                if (
                    error_code(exc) == "ValidationException"
                    and await _index_status(client, definition.name, index) is None
                ):
                    raise
        if time.monotonic() > deadline:
            raise StoreUnavailable(
                f"index {index.name} of {definition.name} is not ACTIVE after {timeout_s:.0f} s"
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def _index_status(client: Any, table: str, index: GlobalIndex) -> str | None:
    """The index's status (CREATING, ACTIVE, ...), or None when the table has no such index."""
    response = await client.describe_table(TableName=table)
    for described in response["Table"].get("GlobalSecondaryIndexes", []):
        if described["IndexName"] != index.name:
            continue
        if described["KeySchema"] != index.key_schema:
            raise RuntimeError(f"index {index.name} of {table} has keys {described['KeySchema']}")
        return str(described.get("IndexStatus", "ACTIVE"))
    return None


async def _enable_ttl(client: Any, table: str, attribute: str) -> None:
    if await _ttl_enabled(client, table, attribute):
        return
    try:
        await client.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )
    except ClientError as exc:
        # "TimeToLive is already enabled": another process won the race between describe and update.
        if error_code(exc) != "ValidationException" or not await _ttl_enabled(client, table, attribute):
            raise


async def _ttl_enabled(client: Any, table: str, attribute: str) -> bool:
    response = await client.describe_time_to_live(TableName=table)
    description = response.get("TimeToLiveDescription", {})
    if description.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        return False
    if description.get("AttributeName") != attribute:
        raise RuntimeError(f"TTL on {table} uses {description.get('AttributeName')!r}, not {attribute!r}")
    return True
