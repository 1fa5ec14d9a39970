"""The Heartbeats contract: each process's last beat, kept beside the others' and forgotten in a day.

Beats are timed from the real clock: DynamoDB Local expires the item by TTL two days after its last beat.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from tests.contract.builders import heartbeat
from workers.store.heartbeats_port import HEARTBEATS_KEPT_FOR, Heartbeats
from workers.store.port import TradeStore


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def test_a_store_without_beats_lists_none(store: Heartbeats) -> None:
    assert await store.list_heartbeats() == []


async def test_each_process_keeps_its_last_beat_whole_beside_the_others(
    store: Heartbeats, now: datetime
) -> None:
    first = heartbeat(7, now, queues=("validation", "persistence"))
    other = heartbeat(7, now, host="worker-2", queues=("execution",))
    await store.beat(first)
    await store.beat(other)
    later = msgspec.structs.replace(first, beat_at=now + timedelta(seconds=15))
    await store.beat(later)
    assert await store.list_heartbeats() == [later, other]  # by process id: host, then pid


async def test_racing_processes_each_keep_their_own_beat(store: Heartbeats, now: datetime) -> None:
    beats = [heartbeat(pid, now) for pid in range(100, 116)]
    await asyncio.gather(*(store.beat(beat) for beat in beats))
    assert sorted(await store.list_heartbeats(), key=lambda beat: beat.pid) == beats


async def test_a_beat_drops_the_beats_a_day_older_than_itself(store: Heartbeats, now: datetime) -> None:
    silent = heartbeat(1, now - HEARTBEATS_KEPT_FOR - timedelta(seconds=1))
    quiet = heartbeat(2, now - HEARTBEATS_KEPT_FOR + timedelta(seconds=1))
    await store.beat(silent)
    await store.beat(quiet)
    assert [beat.pid for beat in await store.list_heartbeats()] == [1, 2]  # kept until someone beats
    await store.beat(heartbeat(3, now))
    assert [beat.pid for beat in await store.list_heartbeats()] == [2, 3]


async def test_many_silent_processes_are_dropped_by_one_beat(store: Heartbeats, now: datetime) -> None:
    for pid in range(45):  # more than one removal request's worth on DynamoDB
        await store.beat(heartbeat(pid, now - timedelta(hours=36)))
    await store.beat(heartbeat(99, now))
    assert [beat.pid for beat in await store.list_heartbeats()] == [99]


async def test_a_process_stopping_forgets_its_beat_only(store: Heartbeats, now: datetime) -> None:
    await store.beat(heartbeat(1, now))
    await store.beat(heartbeat(2, now))
    await store.forget_heartbeat(heartbeat(1, now).process_id)
    await store.forget_heartbeat("worker-9:9")  # never beat: nothing happens
    assert [beat.pid for beat in await store.list_heartbeats()] == [2]


async def test_heartbeats_leave_the_kill_switch_and_the_roster_alone(
    store: TradeStore, now: datetime
) -> None:
    await store.beat(heartbeat(1, now))
    await store.forget_heartbeat(heartbeat(1, now).process_id)
    assert not (await store.get_kill_switch()).engaged
    assert (await store.get_roster()).version == 0
    assert await store.list_heartbeats() == []
