"""The TradeStore contract for a trader's recent trades: newest first, any status, theirs only."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

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


async def test_a_traders_trades_are_listed_newest_first_in_every_status(store: TradeStore) -> None:
    # Offsets and a zero fraction make the timestamps' own strings sort out of time order.
    minus_five = timezone(timedelta(hours=-5))
    at = [
        NOW - timedelta(days=1),
        NOW,
        NOW + timedelta(seconds=1),
        NOW + timedelta(seconds=1, microseconds=500_000),
        NOW.astimezone(minus_five) + timedelta(seconds=3),
    ]
    records = [pending(a_trade(submitted_at=moment)) for moment in at]
    for record in records:
        assert await store.put_new_trade(record, []) is None
    rejected = msgspec.structs.replace(
        pending(a_trade(submitted_at=NOW + timedelta(seconds=4))), status="rejected"
    )
    await store.put_new_trade(rejected, [])

    # Each status lands where its submission time puts it, progress and outcomes included.
    done = executed(records[0])
    assert await store.record_outcome(done, audit(records[0].trade_id, EXECUTED)) is None
    resting = working(records[2], "1")
    assert await store.record_progress(resting, audit(records[2].trade_id, WORKING)) is None
    lost = failed(records[3])
    assert await store.record_outcome(lost, audit(records[3].trade_id, FAILED)) is None

    newest_first = [rejected, records[4], lost, resting, records[1], done]
    assert await store.list_user_trades("U123") == newest_first
    assert await store.list_user_trades("U123", limit=3) == newest_first[:3]
    assert await store.list_user_trades("U123", limit=100) == newest_first


async def test_only_the_traders_own_trades_are_listed(store: TradeStore) -> None:
    mine = pending(trade(user_id="U123", submitted_at=NOW))
    theirs = pending(trade(user_id="U456", submitted_at=NOW + timedelta(seconds=1)))
    for record in (mine, theirs):
        await store.put_new_trade(record, [])
    assert await store.list_user_trades("U123") == [mine]
    assert await store.list_user_trades("U456") == [theirs]
    assert await store.list_user_trades("U999") == []


async def test_the_default_limit_is_ten_and_an_empty_limit_is_refused(store: TradeStore) -> None:
    records = [pending(a_trade(submitted_at=NOW + timedelta(seconds=i))) for i in range(12)]
    await asyncio.gather(*(store.put_new_trade(record, []) for record in records))
    assert await store.list_user_trades("U123") == records[::-1][:10]
    assert await store.list_user_trades("U123", limit=12) == records[::-1]
    for limit in (0, -1):
        with pytest.raises(ValueError):
            await store.list_user_trades("U123", limit=limit)
