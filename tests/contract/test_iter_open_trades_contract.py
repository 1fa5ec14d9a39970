"""The TradeStore contract for reading every open trade a page at a time (the sweeper's read)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import timedelta

import pytest

from messages.records import TradeRecord
from tests.contract.builders import EXECUTED, NOW, a_trade, audit, executed, pending, unknown, working
from workers.store.port import TradeStore


async def _streamed(store: TradeStore, statuses: Collection[str], page_size: int) -> list[TradeRecord]:
    return [record async for record in store.iter_open_trades(statuses, page_size=page_size)]


async def test_pages_of_any_size_read_every_open_trade_status_by_status_oldest_first(
    store: TradeStore,
) -> None:
    resting = [working(pending(a_trade(submitted_at=NOW + timedelta(seconds=i)))) for i in range(7)]
    unsure = [unknown(pending(a_trade(submitted_at=NOW + timedelta(seconds=10 + i)))) for i in range(3)]
    waiting = pending(a_trade(submitted_at=NOW + timedelta(seconds=20)))
    await asyncio.gather(*(store.put_new_trade(record, []) for record in [*resting, *unsure, waiting]))
    done = executed(resting[3])
    assert await store.record_outcome(done, audit(resting[3].trade_id, EXECUTED)) is None
    still_resting = [r for r in resting if r is not resting[3]]

    for page_size in (1, 2, 3, 6, 7, 500):  # a page boundary on, before and after the last trade
        assert await _streamed(store, ("working", "unknown"), page_size) == [*still_resting, *unsure]
    assert await _streamed(store, ("pending", "working", "unknown"), 4) == [waiting, *still_resting, *unsure]
    assert await _streamed(store, ["unknown"], 2) == unsure


async def test_more_open_trades_than_one_listing_returns_are_all_read(store: TradeStore) -> None:
    records = [working(pending(a_trade(submitted_at=NOW + timedelta(seconds=i)))) for i in range(30)]
    await asyncio.gather(*(store.put_new_trade(record, []) for record in records))
    assert await _streamed(store, ["working"], 7) == records


async def test_reading_open_trades_refuses_closed_statuses_and_empty_pages(store: TradeStore) -> None:
    for statuses in (["executed"], ["working", "failed"], "working"):
        with pytest.raises(ValueError):
            await _streamed(store, statuses, 10)
    with pytest.raises(ValueError):
        await _streamed(store, ["working"], 0)
    assert await _streamed(store, ["working"], 10) == []
