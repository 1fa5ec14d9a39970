"""The trade queries on DynamoDB, DynamoTradeQueries: over the trades table's indexes, never a Scan.

Each index (open trades, user trades, trades by day) is eventually consistent; the port says what that
means for each query.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from datetime import datetime
from typing import Any

from messages.records import TradeRecord
from workers.store.arguments import check_limit, open_statuses_to_list, trade_window
from workers.store.dynamodb.faults import transient_faults_as_unavailable
from workers.store.dynamodb.items import day_sort_bounds, trade_from_attributes
from workers.store.dynamodb.requests import DynamoRequests, trades_by_day_request
from workers.store.dynamodb.tables import (
    OPEN_SORT_ATTRIBUTE,
    OPEN_STATUS_ATTRIBUTE,
    OPEN_TRADES_INDEX,
    USER_ATTRIBUTE,
    USER_TRADES_INDEX,
)


class DynamoTradeQueries:
    """The TradeQueries role."""

    def __init__(self, requests: DynamoRequests) -> None:
        self._requests = requests

    async def list_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), limit: int = 500
    ) -> list[TradeRecord]:
        """Query the sparse open-trades index once per status; see the port for its consistency."""
        items: list[dict[str, Any]] = []
        for status in open_statuses_to_list(statuses, limit):
            request = {
                "TableName": self._requests.tables.trades,
                "IndexName": OPEN_TRADES_INDEX,
                "KeyConditionExpression": "#open = :status",
                "ExpressionAttributeNames": {"#open": OPEN_STATUS_ATTRIBUTE},
                "ExpressionAttributeValues": {":status": {"S": status}},
                "ScanIndexForward": True,  # oldest first; a GSI cannot be read consistently
            }
            items.extend(await self._requests.query(request, limit=limit))
        items.sort(key=lambda item: str(item[OPEN_SORT_ATTRIBUTE]["S"]))
        return [trade_from_attributes(item) for item in items[:limit]]

    async def iter_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        """Query the sparse open-trades index a page at a time, status after status; see the port."""
        for status in open_statuses_to_list(statuses, page_size):
            request: dict[str, Any] = {
                "TableName": self._requests.tables.trades,
                "IndexName": OPEN_TRADES_INDEX,
                "KeyConditionExpression": "#open = :status",
                "ExpressionAttributeNames": {"#open": OPEN_STATUS_ATTRIBUTE},
                "ExpressionAttributeValues": {":status": {"S": status}},
                "ScanIndexForward": True,
                "Limit": page_size,
            }
            while True:
                with transient_faults_as_unavailable(f"Query {self._requests.tables.trades}"):
                    page = await self._requests.client.query(**request)
                for item in page.get("Items", []):
                    yield trade_from_attributes(item)
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def list_user_trades(self, user_id: str, limit: int = 10) -> list[TradeRecord]:
        """Query the user-trades index newest first; see the port for its consistency."""
        request = {
            "TableName": self._requests.tables.trades,
            "IndexName": USER_TRADES_INDEX,
            "KeyConditionExpression": "#user = :user",
            "ExpressionAttributeNames": {"#user": USER_ATTRIBUTE},
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            "ScanIndexForward": False,  # newest first; a GSI cannot be read consistently
        }
        items = await self._requests.query(request, limit=check_limit(limit))
        return [trade_from_attributes(item) for item in items[:limit]]

    async def list_trades_since(
        self, since: datetime, until: datetime | None = None, limit: int = 100_000
    ) -> list[TradeRecord]:
        """Query the trades-by-day index once per UTC day, oldest first; see the port for its consistency."""
        days, lower, upper = day_sort_bounds(*trade_window(since, until, limit))
        items: list[dict[str, Any]] = []
        for day in days:
            request = trades_by_day_request(self._requests.tables.trades, day, lower, upper)
            items.extend(await self._requests.query(request, limit=limit - len(items)))
            if len(items) >= limit:
                break
        return [trade_from_attributes(item) for item in items[:limit]]

    async def iter_trades(
        self, since: datetime, until: datetime | None = None, *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        """Query the trades-by-day index a page at a time, day after day; see the port."""
        days, lower, upper = day_sort_bounds(*trade_window(since, until, page_size))
        for day in days:
            request = {
                **trades_by_day_request(self._requests.tables.trades, day, lower, upper),
                "Limit": page_size,
            }
            while True:
                with transient_faults_as_unavailable(f"Query {self._requests.tables.trades}"):
                    page = await self._requests.client.query(**request)
                for item in page.get("Items", []):
                    yield trade_from_attributes(item)
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
