"""The TradeStore contract for streaming a window's trades a page at a time (the regulatory report's read)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from messages.records import TradeRecord
from tests.contract.builders import EXECUTED, FAILED, NOW, a_trade, audit, executed, failed, pending
from workers.store.port import TradeStore


async def _streamed(
    store: TradeStore, since: datetime, until: datetime | None = None, *, page_size: int = 500
) -> list[TradeRecord]:
    return [record async for record in store.iter_trades(since, until, page_size=page_size)]


async def test_pages_of_any_size_stream_the_same_trades_as_the_list_oldest_first(store: TradeStore) -> None:
    records = [pending(a_trade(submitted_at=NOW + timedelta(seconds=i))) for i in range(6)]
    rejected = msgspec.structs.replace(
        pending(a_trade(user_id="U456", submitted_at=NOW + timedelta(seconds=6))), status="rejected"
    )
    await asyncio.gather(*(store.put_new_trade(record, []) for record in [*records, rejected]))
    done = executed(records[2])
    assert await store.record_outcome(done, audit(records[2].trade_id, EXECUTED)) is None
    lost = failed(records[5])
    assert await store.record_outcome(lost, audit(records[5].trade_id, FAILED)) is None
    expected = [*records[:2], done, *records[3:5], lost, rejected]

    window = (NOW, NOW + timedelta(minutes=1))
    assert await store.list_trades_since(*window) == expected
    for page_size in (1, 2, 3, 7, 8, 500):  # a page boundary on, before and after the last trade
        assert await _streamed(store, *window, page_size=page_size) == expected, page_size
    # `until` defaults to now, which is after every trade here; a naive datetime is read as UTC.
    naive = (NOW + timedelta(seconds=1)).replace(tzinfo=None)
    assert await _streamed(store, naive, page_size=2) == expected[1:]


async def test_a_window_spanning_utc_days_is_streamed_day_after_day(store: TradeStore) -> None:
    midnight = datetime(2026, 11, 26, tzinfo=UTC)
    at = [
        midnight - timedelta(days=2, seconds=1),  # before the window
        midnight - timedelta(days=1, hours=1),
        midnight - timedelta(days=1, minutes=30),
        midnight - timedelta(microseconds=1),
        midnight,
        midnight + timedelta(days=1, hours=23),
        midnight + timedelta(days=2),  # the window's `until`: outside it
    ]
    records = [pending(a_trade(submitted_at=moment)) for moment in at]
    await asyncio.gather(*(store.put_new_trade(record, []) for record in records))
    new_york = timezone(timedelta(hours=-5))
    since = (midnight - timedelta(days=2)).astimezone(new_york)
    for page_size in (1, 2, 100):
        assert (
            await _streamed(store, since, midnight + timedelta(days=2), page_size=page_size) == records[1:6]
        )


async def test_an_empty_window_streams_nothing(store: TradeStore) -> None:
    await store.put_new_trade(pending(a_trade(submitted_at=NOW)), [])
    assert await _streamed(store, NOW + timedelta(seconds=1), NOW + timedelta(hours=1)) == []
    assert await _streamed(store, NOW, NOW) == []


async def test_a_backwards_window_and_an_empty_page_are_refused_on_the_first_step(store: TradeStore) -> None:
    with pytest.raises(ValueError, match="before"):
        await _streamed(store, NOW, NOW - timedelta(seconds=1))
    for page_size in (0, -1):
        with pytest.raises(ValueError):
            await _streamed(store, NOW, page_size=page_size)
