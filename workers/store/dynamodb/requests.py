"""The DynamoDB requests DynamoTradeStore is made of: conditional puts, transactions, reads and queries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from workers.store.dynamodb.faults import (
    CONDITION_FAILED,
    TRANSACTION_CONFLICT,
    cancellation_reasons,
    error_code,
    transient_faults_as_unavailable,
)
from workers.store.dynamodb.items import from_attributes
from workers.store.dynamodb.tables import (
    DAY_SORT_ATTRIBUTE,
    TRADE_DAY_ATTRIBUTE,
    TRADES_BY_DAY_INDEX,
    TableNames,
)
from workers.store.port import StoreUnavailable

_BATCH_GET_ATTEMPTS = 5

T = TypeVar("T")


def put_request(
    table: str,
    item: dict[str, Any],
    condition: str,
    *,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A conditional Put, as one item of TransactWriteItems (its "Put" value is PutItem's arguments)."""
    put: dict[str, Any] = {"TableName": table, "Item": item, "ConditionExpression": condition}
    if names:
        put["ExpressionAttributeNames"] = names
    if values:  # DynamoDB refuses an unused or empty ExpressionAttributeValues
        put["ExpressionAttributeValues"] = values
    return {"Put": put}


@dataclass(frozen=True)
class DynamoRequests:
    """The one long-lived client and the table names every concern of DynamoTradeStore sends requests with.

    Each request turns a transient fault into StoreUnavailable (faults.py) and nothing else.
    """

    client: Any
    tables: TableNames

    async def put_if(self, operation: str, request: dict[str, Any]) -> bool:
        """Send one `put_request` alone: True when written, False when its condition failed."""
        with transient_faults_as_unavailable(operation):
            try:
                await self.client.put_item(**request["Put"])
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    async def transact(
        self, operation: str, items: list[dict[str, Any]], *, conflicts_as_reasons: bool = False
    ) -> list[str] | None:
        """Write `items` atomically: None when written, else each item's cancellation reason code.

        With `conflicts_as_reasons`, a TransactionConflict (another transaction was writing one of the items)
        is returned as a reason too, for a caller that retries at once (the audit chain's head).
        """
        expected = {"None", CONDITION_FAILED, *([TRANSACTION_CONFLICT] if conflicts_as_reasons else [])}
        with transient_faults_as_unavailable(operation):
            try:
                await self.client.transact_write_items(TransactItems=items)
                return None
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = cancellation_reasons(exc)
                if len(reasons) != len(items) or not set(reasons) <= expected:
                    raise  # transient reasons become StoreUnavailable; anything else is a bug of ours
                return reasons

    async def get_item(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        """The item under `key`, read consistently, or None."""
        with transient_faults_as_unavailable(f"GetItem {table}"):
            response = await self.client.get_item(TableName=table, Key=key, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item

    async def get(self, table: str, key: dict[str, Any], kind: type[T]) -> T | None:
        """The item under `key`, read consistently and decoded as `kind`, or None."""
        item = await self.get_item(table, key)
        return None if item is None else from_attributes(item, kind)

    async def get_items(self, keys: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """The items under `keys` (table → its keys), read consistently in one BatchGetItem; absent omitted.

        Keys DynamoDB leaves unprocessed (throttling) are asked again after a short pause, a few times at
        most.
        """
        found: dict[str, list[dict[str, Any]]] = {table: [] for table in keys}
        pending = {table: {"Keys": wanted, "ConsistentRead": True} for table, wanted in keys.items()}
        with transient_faults_as_unavailable(f"BatchGetItem {', '.join(keys)}"):
            for attempt in range(_BATCH_GET_ATTEMPTS):
                response = await self.client.batch_get_item(RequestItems=pending)
                for table, items in response.get("Responses", {}).items():
                    found[table].extend(items)
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    return found
                await asyncio.sleep(0.01 * 2**attempt)
        raise StoreUnavailable(
            f"DynamoDB BatchGetItem: keys still unprocessed after {_BATCH_GET_ATTEMPTS} tries"
        )

    async def query(self, request: dict[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
        """Every item a Query matches, page after page, or the first `limit` of them."""
        request = dict(request)
        items: list[dict[str, Any]] = []
        with transient_faults_as_unavailable(f"Query {request['TableName']}"):
            while True:
                if limit is not None:
                    request["Limit"] = limit - len(items)
                page = await self.client.query(**request)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page or (limit is not None and len(items) >= limit):
                    return items
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def scan(self, table: str) -> list[dict[str, Any]]:
        """Every item of `table`, page after page, read consistently (operators' whole-table reads only)."""
        request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        items: list[dict[str, Any]] = []
        with transient_faults_as_unavailable(f"Scan {table}"):
            while True:
                page = await self.client.scan(**request)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return items
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def query_partition(
        self, table: str, condition: str, values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Every item of the partition `condition` names, read consistently, in sort key order."""
        request = {
            "TableName": table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        return await self.query(request)


def trades_by_day_request(table: str, day: str, lower: str, upper: str) -> dict[str, Any]:
    """The Query for one UTC day's trades whose submission sort key is in [lower, upper], oldest first."""
    return {
        "TableName": table,
        "IndexName": TRADES_BY_DAY_INDEX,
        "KeyConditionExpression": "#day = :day AND #sort BETWEEN :lower AND :upper",
        "ExpressionAttributeNames": {"#day": TRADE_DAY_ATTRIBUTE, "#sort": DAY_SORT_ATTRIBUTE},
        "ExpressionAttributeValues": {":day": {"S": day}, ":lower": {"S": lower}, ":upper": {"S": upper}},
        "ScanIndexForward": True,  # oldest first; a GSI cannot be read consistently
    }
