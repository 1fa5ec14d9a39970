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

    Every process and command runs this at start: on tables that are there and ACTIVE it costs one
    DescribeTable each (the indexes are read from it) and one DescribeTimeToLive per TTL table, never a
    CreateTable answered ResourceInUse. A table it creates is not described again once CreateTable says it
    is ACTIVE (DynamoDB Local does at once), and its TTL, off on a new table, is turned on without a look.
    """
    definitions = table_definitions(tables, encryption)
    with transient_faults_as_unavailable("create_tables"):
        described: dict[str, dict[str, Any] | None] = {}
        created: set[str] = set()
        for definition in definitions:
            described[definition.name] = await _described(client, definition.name)
            if described[definition.name] is None:
                described[definition.name] = await _create(client, definition)
                if described[definition.name] is not None:  # else another process made it meanwhile
                    created.add(definition.name)
        for definition in definitions:
            table = described[definition.name]
            if table is None or table.get("TableStatus") not in _SERVING:
                table = await _wait_until_created(client, definition.name)
            for index in definition.indexes:
                await _ensure_index(client, definition, index, table)
            if definition.ttl_attribute is not None:
                new = definition.name in created
                await _enable_ttl(client, definition.name, definition.ttl_attribute, known_off=new)


# UPDATING (say, another process adding an index) still serves reads and writes; the index step waits for the
# index itself, with a deadline that allows for backfilling.
_SERVING = ("ACTIVE", "UPDATING")


async def _described(client: Any, table: str) -> dict[str, Any] | None:
    """DescribeTable's `Table`, or None when there is no such table (yet)."""
    try:
        response = await client.describe_table(TableName=table)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        return None
    return dict(response["Table"])


async def _create(client: Any, definition: TableDefinition) -> dict[str, Any] | None:
    """CreateTable's description of the new table; None when another process made it meanwhile."""
    try:
        response = await client.create_table(**definition.create_request)
    except ClientError as exc:
        if error_code(exc) != "ResourceInUseException":
            raise
        return None
    return dict(response.get("TableDescription", {})) or None


async def _wait_until_created(client: Any, table: str, timeout_s: float = TABLE_TIMEOUT_S) -> dict[str, Any]:
    """The table's description once it serves (not visible yet right after a create: looked at again)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        described = await _described(client, table)
        if described is not None and described["TableStatus"] in _SERVING:
            return described
        if time.monotonic() > deadline:
            raise StoreUnavailable(f"table {table} is not ACTIVE after {timeout_s:.0f} s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def _ensure_index(
    client: Any,
    definition: TableDefinition,
    index: GlobalIndex,
    table: dict[str, Any],
    timeout_s: float = INDEX_TIMEOUT_S,
) -> None:
    """Add `index` to the table unless it is there, then wait until it is ACTIVE. `table`: the table's
    description, read a moment ago (the first look needs no request of its own)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    status = _index_status_in(table, index)
    while True:
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
        status = await _index_status(client, definition.name, index)


async def _index_status(client: Any, table: str, index: GlobalIndex) -> str | None:
    """The index's status (CREATING, ACTIVE, ...), or None when the table has no such index."""
    response = await client.describe_table(TableName=table)
    return _index_status_in(response["Table"], index)


def _index_status_in(table: dict[str, Any], index: GlobalIndex) -> str | None:
    for described in table.get("GlobalSecondaryIndexes", []):
        if described["IndexName"] != index.name:
            continue
        if described["KeySchema"] != index.key_schema:
            keys = described["KeySchema"]
            raise RuntimeError(f"index {index.name} of {table.get('TableName')} has keys {keys}")
        return str(described.get("IndexStatus", "ACTIVE"))
    return None


async def _enable_ttl(client: Any, table: str, attribute: str, *, known_off: bool = False) -> None:
    """Turn TTL on unless it is; `known_off`: the table was created a moment ago, so no need to look first."""
    if not known_off and await _ttl_enabled(client, table, attribute):
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
