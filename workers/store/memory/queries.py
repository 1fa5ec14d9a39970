"""The trade queries in process memory, MemoryTradeQueries: what each DynamoDB index would list, in order."""

from __future__ import annotations

import asyncio
import heapq
import uuid
from collections.abc import AsyncIterator, Collection
from datetime import datetime

from messages.records import TradeRecord
from workers.store.arguments import check_limit, open_statuses_to_list, trade_window
from workers.store.dynamodb.items import day_sort_bounds, trade_from_attributes
from workers.store.dynamodb.tables import (
    DAY_SORT_ATTRIBUTE,
    OPEN_SORT_ATTRIBUTE,
    OPEN_STATUS_ATTRIBUTE,
    TRADE_DAY_ATTRIBUTE,
    USER_SORT_ATTRIBUTE,
)
from workers.store.memory.stored import Item


class MemoryTradeQueries:
    """The TradeQueries role, reading the trade items MemoryTradeRecords writes, by their index keys."""

    def __init__(self, lock: asyncio.Lock, trades: dict[uuid.UUID, Item]) -> None:
        self._lock = lock
        self._trades = trades

    async def list_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), limit: int = 500
    ) -> list[TradeRecord]:
        wanted = open_statuses_to_list(statuses, limit)
        async with self._lock:
            items = [
                item
                for item in self._trades.values()
                if item.get(OPEN_STATUS_ATTRIBUTE, {}).get("S") in wanted
            ]
        items.sort(key=lambda item: str(item[OPEN_SORT_ATTRIBUTE]["S"]))
        return [trade_from_attributes(item) for item in items[:limit]]

    async def iter_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        for status in open_statuses_to_list(statuses, page_size):
            after = ""  # the open-sort key of the last trade yielded; every key sorts after ""
            while True:
                # Each page is a fresh read under the lock, resuming after the last key, as a Query page does.
                async with self._lock:
                    page = heapq.nsmallest(
                        page_size,
                        (
                            item
                            for item in self._trades.values()
                            if item.get(OPEN_STATUS_ATTRIBUTE, {}).get("S") == status
                            and str(item[OPEN_SORT_ATTRIBUTE]["S"]) > after
                        ),
                        key=lambda item: str(item[OPEN_SORT_ATTRIBUTE]["S"]),
                    )
                for item in page:
                    yield trade_from_attributes(item)
                if len(page) < page_size:
                    break
                after = str(page[-1][OPEN_SORT_ATTRIBUTE]["S"])

    async def list_user_trades(self, user_id: str, limit: int = 10) -> list[TradeRecord]:
        check_limit(limit)
        async with self._lock:
            items = [item for item in self._trades.values() if item["user_id"]["S"] == user_id]
        items.sort(key=lambda item: str(item[USER_SORT_ATTRIBUTE]["S"]), reverse=True)
        return [trade_from_attributes(item) for item in items[:limit]]

    async def list_trades_since(
        self, since: datetime, until: datetime | None = None, limit: int = 100_000
    ) -> list[TradeRecord]:
        days, lower, upper = day_sort_bounds(*trade_window(since, until, limit))
        wanted = set(days)
        async with self._lock:
            items = [
                item
                for item in self._trades.values()
                if item.get(TRADE_DAY_ATTRIBUTE, {}).get("S") in wanted
                and lower <= item[DAY_SORT_ATTRIBUTE]["S"] <= upper
            ]
        items.sort(key=lambda item: str(item[DAY_SORT_ATTRIBUTE]["S"]))
        return [trade_from_attributes(item) for item in items[:limit]]

    async def iter_trades(
        self, since: datetime, until: datetime | None = None, *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        days, lower, upper = day_sort_bounds(*trade_window(since, until, page_size))
        wanted = set(days)
        after = ""  # the sort key of the last trade yielded; every key sorts after ""
        while True:
            # Each page is a fresh read under the lock, resuming after the last key, as a Query page does.
            async with self._lock:
                page = heapq.nsmallest(
                    page_size,
                    (
                        item
                        for item in self._trades.values()
                        if item.get(TRADE_DAY_ATTRIBUTE, {}).get("S") in wanted
                        and lower <= item[DAY_SORT_ATTRIBUTE]["S"] <= upper
                        and item[DAY_SORT_ATTRIBUTE]["S"] > after
                    ),
                    key=lambda item: str(item[DAY_SORT_ATTRIBUTE]["S"]),
                )
            for item in page:
                yield trade_from_attributes(item)
            if len(page) < page_size:
                return
            after = page[-1][DAY_SORT_ATTRIBUTE]["S"]
