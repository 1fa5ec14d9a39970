"""Creating tradeflow's DynamoDB tables and their TTL: idempotent, and safe from several processes at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from botocore.exceptions import ClientError

from workers.store.faults import error_code, transient_faults_as_unavailable
from workers.store.port import StoreUnavailable
from workers.store.tables import TableNames, table_definitions


async def create_tables(client: Any, tables: TableNames) -> None:
    """Create the missing tables, wait until they are ACTIVE, and enable TTL where the definition asks."""
    definitions = table_definitions(tables)
    with transient_faults_as_unavailable("create_tables"):
        for definition in definitions:
            try:
                await client.create_table(**definition.create_request)
            except ClientError as exc:
                if error_code(exc) != "ResourceInUseException":  # in use: another process made it
                    raise
        for definition in definitions:
            await _wait_until_active(client, definition.name)
            if definition.ttl_attribute is not None:
                await _enable_ttl(client, definition.name, definition.ttl_attribute)


async def _wait_until_active(client: Any, table: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            response = await client.describe_table(TableName=table)
            if response["Table"]["TableStatus"] == "ACTIVE":
                return
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":  # not visible yet right after create
                raise
        if time.monotonic() > deadline:
            raise StoreUnavailable(f"table {table} is not ACTIVE after {timeout_s:.0f} s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


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
