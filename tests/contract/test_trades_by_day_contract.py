"""The TradeStore contract for a time window's trades: every status, oldest first, across UTC days."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from tests.contract.builders import (
    EXECUTED,
    FAILED,
    NOW,
    WORKING,
    a_trade,
    audit,
    executed,
    failed,
    pending,
    working,
)
from tests.unit.fakes import trade
from workers.store.port import TradeStore


async def test_a_windows_trades_are_listed_oldest_first_in_every_status(store: TradeStore) -> None:
    # Offsets and a zero fraction make the timestamps' own strings sort out of time order.
    minus_five = timezone(timedelta(hours=-5))
    at = [
        NOW,
        NOW + timedelta(seconds=1),
        NOW + timedelta(seconds=1, microseconds=500_000),
        NOW.astimezone(minus_five) + timedelta(seconds=3),
    ]
    records = [pending(a_trade(submitted_at=moment)) for moment in at]
    for record in records:
        assert await store.put_new_trade(record, []) is None
    rejected = msgspec.structs.replace(
        pending(trade(user_id="U456", submitted_at=NOW + timedelta(seconds=4))), status="rejected"
    )
    await store.put_new_trade(rejected, [])

    done = executed(records[0])
    assert await store.record_outcome(done, audit(records[0].trade_id, EXECUTED)) is None
    resting = working(records[1], "1")
    assert await store.record_progress(resting, audit(records[1].trade_id, WORKING)) is None
    lost = failed(records[2])
    assert await store.record_outcome(lost, audit(records[2].trade_id, FAILED)) is None

    oldest_first = [done, resting, lost, records[3], rejected]
    assert await store.list_trades_since(NOW, NOW + timedelta(minutes=1)) == oldest_first
    assert await store.list_trades_since(NOW, NOW + timedelta(minutes=1), limit=2) == oldest_first[:2]
    # `until` defaults to now, which is after every trade here.
    assert await store.list_trades_since(NOW - timedelta(hours=1)) == oldest_first


async def test_since_is_inclusive_and_until_exclusive_in_any_offset(store: TradeStore) -> None:
    records = [pending(a_trade(submitted_at=NOW + timedelta(seconds=i))) for i in range(4)]
    await asyncio.gather(*(store.put_new_trade(record, []) for record in records))
    tokyo = timezone(timedelta(hours=9))
    since, until = (NOW + timedelta(seconds=1)).astimezone(tokyo), NOW + timedelta(seconds=3)
    assert await store.list_trades_since(since, until) == records[1:3]
    # A naive datetime is read as UTC.
    naive = (NOW + timedelta(seconds=2)).replace(tzinfo=None)
    assert await store.list_trades_since(naive, until) == records[2:3]
    assert await store.list_trades_since(until, until) == []


async def test_a_window_spanning_utc_days_reads_each_day(store: TradeStore) -> None:
    midnight = datetime(2026, 11, 26, tzinfo=UTC)
    at = [
        midnight - timedelta(days=2, seconds=1),  # before the window
        midnight - timedelta(days=1, hours=1),
        midnight - timedelta(microseconds=1),
        midnight,
        midnight + timedelta(days=1, hours=23),
        midnight + timedelta(days=2),  # the window's `until`: outside it
    ]
    records = [pending(a_trade(submitted_at=moment)) for moment in at]
    await asyncio.gather(*(store.put_new_trade(record, []) for record in records))
    # A window in New York time still splits on UTC days.
    new_york = timezone(timedelta(hours=-5))
    since = (midnight - timedelta(days=2)).astimezone(new_york)
    assert await store.list_trades_since(since, midnight + timedelta(days=2)) == records[1:5]
    assert await store.list_trades_since(since, midnight + timedelta(days=2), limit=3) == records[1:4]
    assert await store.list_trades_since(midnight, midnight + timedelta(days=3)) == records[3:]


async def test_a_backwards_window_and_an_empty_limit_are_refused(store: TradeStore) -> None:
    with pytest.raises(ValueError, match="before"):
        await store.list_trades_since(NOW, NOW - timedelta(seconds=1))
    for limit in (0, -1):
        with pytest.raises(ValueError):
            await store.list_trades_since(NOW, limit=limit)
