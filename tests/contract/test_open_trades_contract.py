"""The TradeStore contract for open trades: progress, outcomes from any open state, the open-trades list."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

import msgspec
import pytest

from tests.contract.builders import (
    EXECUTED,
    FAILED,
    NOW,
    SUBMITTED,
    UNKNOWN,
    WORKING,
    a_trade,
    audit,
    executed,
    failed,
    pending,
    unchained,
    unknown,
    working,
)
from workers.store.port import TradeStore


async def test_an_outcome_closes_a_working_or_an_unknown_trade(store: TradeStore) -> None:
    for opened in (working(pending(), "3"), unknown(pending())):
        assert await store.put_new_trade(opened, [audit(opened.trade_id, SUBMITTED)]) is None
        done = executed(opened)
        assert await store.record_outcome(done, audit(opened.trade_id, EXECUTED)) is None
        assert await store.get_trade(opened.trade_id) == done
        assert await store.record_outcome(failed(opened), audit(opened.trade_id, FAILED)) == done
        assert await store.get_audit(opened.trade_id, FAILED) is None


async def test_progress_moves_an_open_trade_through_open_states(store: TradeStore) -> None:
    record = pending()
    await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])

    resting = working(record)
    assert await store.record_progress(resting, audit(record.trade_id, WORKING)) is None
    assert await store.get_trade(record.trade_id) == resting

    partly_filled = working(record, "2", "3.5")
    assert await store.record_progress(partly_filled, None) is None
    assert await store.get_trade(record.trade_id) == partly_filled

    lost = unknown(partly_filled)
    assert await store.record_progress(lost, audit(record.trade_id, UNKNOWN)) is None
    assert await store.get_trade(record.trade_id) == lost
    keys = [event.event_key for event in await store.list_audit(record.trade_id)]
    assert keys == [SUBMITTED, WORKING, UNKNOWN]


async def test_redelivered_progress_writes_the_record_and_keeps_the_first_audit(store: TradeStore) -> None:
    record = pending()
    await store.put_new_trade(record, [])
    first_audit = audit(record.trade_id, WORKING, {"attempt": 1})
    assert await store.record_progress(working(record), first_audit) is None

    more_fills = working(record, "1")
    assert await store.record_progress(more_fills, audit(record.trade_id, WORKING, {"attempt": 2})) is None
    assert await store.get_trade(record.trade_id) == more_fills
    assert [unchained(event) for event in await store.list_audit(record.trade_id)] == [first_audit]


async def test_progress_never_changes_a_terminal_trade(store: TradeStore) -> None:
    record = pending()
    await store.put_new_trade(record, [])
    done = executed(record)
    await store.record_outcome(done, audit(record.trade_id, EXECUTED))

    assert await store.record_progress(working(record, "1"), audit(record.trade_id, WORKING)) == done
    assert await store.record_progress(unknown(record), None) == done
    assert await store.get_trade(record.trade_id) == done
    assert await store.get_audit(record.trade_id, WORKING) is None


async def test_progress_for_an_unknown_trade_raises_key_error(store: TradeStore) -> None:
    record = working(pending())
    with pytest.raises(KeyError):
        await store.record_progress(record, audit(record.trade_id, WORKING))
    with pytest.raises(KeyError):
        await store.record_progress(record, None)
    assert await store.get_trade(record.trade_id) is None
    assert await store.get_audit(record.trade_id, WORKING) is None


async def test_progress_must_stay_open(store: TradeStore) -> None:
    record = pending()
    await store.put_new_trade(record, [])
    for closed in (executed(record), failed(record), msgspec.structs.replace(record, status="rejected")):
        with pytest.raises(ValueError):
            await store.record_progress(closed, None)
    assert await store.get_trade(record.trade_id) == record


async def test_an_outcome_wins_over_concurrent_progress(store: TradeStore) -> None:
    record = working(pending())
    await store.put_new_trade(record, [])
    done = executed(record)
    progress = [store.record_progress(working(record, str(i)), None) for i in range(1, 5)]
    results = await asyncio.gather(store.record_outcome(done, audit(record.trade_id, EXECUTED)), *progress)
    assert results[0] is None
    assert all(result in (None, done) for result in results[1:])
    assert await store.get_trade(record.trade_id) == done


async def test_open_trades_are_listed_oldest_first_and_closed_ones_drop_out(store: TradeStore) -> None:
    # Offsets and a zero fraction make the timestamps' own strings sort out of time order.
    minus_five = timezone(timedelta(hours=-5))
    at = [
        NOW.astimezone(minus_five) + timedelta(seconds=3),
        NOW + timedelta(seconds=1, microseconds=500_000),
        NOW + timedelta(seconds=1),
        NOW,
        NOW - timedelta(days=1),
    ]
    opened = [
        working(pending(a_trade(submitted_at=at[0])), "1"),
        unknown(pending(a_trade(submitted_at=at[1]))),
        working(pending(a_trade(submitted_at=at[2]))),
        pending(a_trade(submitted_at=at[3])),
        working(pending(a_trade(submitted_at=at[4]))),
    ]
    closed = working(pending(a_trade(submitted_at=NOW - timedelta(days=2))))
    for record in [*opened, closed]:
        await store.put_new_trade(record, [])
    await store.record_outcome(executed(closed), audit(closed.trade_id, EXECUTED))
    await store.put_new_trade(msgspec.structs.replace(pending(), status="rejected"), [])

    oldest_first = [opened[4], opened[2], opened[1], opened[0]]
    assert await store.list_open_trades() == oldest_first
    assert await store.list_open_trades(limit=2) == oldest_first[:2]
    assert await store.list_open_trades(["unknown", "unknown"]) == [opened[1]]
    assert await store.list_open_trades({"pending"}) == [opened[3]]
    everything = await store.list_open_trades(("pending", "working", "unknown"))
    assert everything == [opened[4], opened[3], opened[2], opened[1], opened[0]]

    # Progress moves a trade between statuses in the list; an outcome takes it out.
    await store.record_progress(working(opened[3]), None)
    await store.record_outcome(failed(opened[4]), audit(opened[4].trade_id, FAILED))
    assert [r.trade_id for r in await store.list_open_trades()] == [
        opened[3].trade_id,
        opened[2].trade_id,
        opened[1].trade_id,
        opened[0].trade_id,
    ]
    assert await store.list_open_trades(["pending"]) == []


async def test_listing_open_trades_refuses_closed_statuses_and_empty_limits(store: TradeStore) -> None:
    for statuses in (["executed"], ["working", "failed"], "working"):
        with pytest.raises(ValueError):
            await store.list_open_trades(statuses)
    with pytest.raises(ValueError):
        await store.list_open_trades(limit=0)
    assert await store.list_open_trades() == []


async def test_more_open_trades_than_the_limit(store: TradeStore) -> None:
    records = [working(pending(a_trade(submitted_at=NOW + timedelta(seconds=i)))) for i in range(12)]
    await asyncio.gather(*(store.put_new_trade(record, []) for record in records))
    assert await store.list_open_trades(limit=5) == records[:5]
    assert await store.list_open_trades(limit=100) == records
    assert await store.list_open_trades(limit=12) == records
