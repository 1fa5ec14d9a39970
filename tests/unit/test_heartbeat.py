"""A worker process's heartbeat: into its file and the store every interval, never stopped by the store."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import msgspec
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO

from messages.records import Heartbeat
from tests.waiting import eventually
from workers.chain.liveness.beating import Beating
from workers.chain.liveness.files import HeartbeatFile, read_beat_files
from workers.chain.liveness.middleware import WorkerHeartbeat
from workers.store.port import StoreUnavailable

STARTED = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = STARTED

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordingHeartbeats:
    """The Heartbeats role in a dict any thread reads; `down` refuses every call, `hanging` never answers."""

    def __init__(self) -> None:
        self.beats: dict[str, Heartbeat] = {}
        self.down = False
        self.hanging = False

    async def beat(self, heartbeat: Heartbeat) -> None:
        await self._answer()
        self.beats[heartbeat.process_id] = heartbeat

    async def list_heartbeats(self) -> list[Heartbeat]:
        return [self.beats[process_id] for process_id in sorted(self.beats)]

    async def forget_heartbeat(self, process_id: str) -> None:
        await self._answer()
        self.beats.pop(process_id, None)

    async def _answer(self) -> None:
        if self.hanging:
            await asyncio.Event().wait()
        if self.down:
            raise StoreUnavailable("DynamoDB UpdateItem: EndpointConnectionError")


def process(interval_ms: int = 15_000) -> Heartbeat:
    return Heartbeat(
        host="worker-1",
        pid=os.getpid(),
        queues=("execution",),
        started_at=STARTED,
        beat_at=STARTED,
        interval_ms=interval_ms,
        version="0.1.0",
    )


def beat_ages(directory: Path) -> dict[int, float]:
    return {beat.pid: beat.age_s for beat in read_beat_files(directory, datetime.now(UTC).timestamp())}


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), timeout)


async def test_a_beat_touches_the_file_and_records_the_process_at_the_clocks_time(tmp_path: Path) -> None:
    store, clock = RecordingHeartbeats(), FakeClock()
    beating = Beating(process(), store=lambda: store, file=HeartbeatFile(tmp_path, os.getpid()), clock=clock)
    await beating.beat_once()
    clock.advance(15)
    await beating.beat_once()
    later = msgspec.structs.replace(process(), beat_at=STARTED + timedelta(seconds=15))
    assert await store.list_heartbeats() == [later]
    assert list(beat_ages(tmp_path)) == [os.getpid()]


async def test_a_store_that_is_down_never_stops_the_beats_nor_the_file(tmp_path: Path) -> None:
    store, clock = RecordingHeartbeats(), FakeClock()
    store.down = True
    file = HeartbeatFile(tmp_path, os.getpid())
    beating = Beating(process(), store=lambda: store, file=file, clock=clock)
    await beating.beat_once()  # no exception: logged, and the worker carries on
    assert file.path.exists() and store.beats == {}
    store.down = False
    clock.advance(15)
    await beating.beat_once()
    assert [beat.beat_at for beat in store.beats.values()] == [clock.now]


async def test_a_process_whose_store_is_not_open_yet_still_touches_its_file(tmp_path: Path) -> None:
    file = HeartbeatFile(tmp_path, os.getpid())
    await Beating(process(), store=lambda: None, file=file).beat_once()
    assert file.path.exists()


async def test_a_store_that_never_answers_is_given_up_on_after_one_interval(tmp_path: Path) -> None:
    store = RecordingHeartbeats()
    store.hanging = True
    beating = Beating(process(interval_ms=50), store=lambda: store, file=HeartbeatFile(tmp_path, os.getpid()))
    await asyncio.wait_for(beating.beat_once(), timeout=5)  # returns: the next beat is not held up


async def test_a_process_whose_worker_thread_stopped_leaves_its_file_to_age(tmp_path: Path) -> None:
    store = RecordingHeartbeats()
    file = HeartbeatFile(tmp_path, os.getpid())
    await Beating(process(), store=lambda: store, file=file, healthy=lambda: False).beat_once()
    assert not file.path.exists()
    assert len(store.beats) == 1  # the cluster's view still has it, with the queues it holds


async def test_beating_repeats_each_interval_and_stopping_forgets_the_process(tmp_path: Path) -> None:
    store, clock = RecordingHeartbeats(), FakeClock()
    file = HeartbeatFile(tmp_path, os.getpid())
    beating = Beating(process(interval_ms=20), store=lambda: store, file=file, clock=clock)
    await beating.start()
    for _ in range(3):
        clock.advance(1)
        await until(lambda: [beat.beat_at for beat in store.beats.values()] == [clock.now])
    await beating.stop()
    assert not file.path.exists() and store.beats == {}


async def test_a_process_stops_even_when_its_store_never_answers(tmp_path: Path) -> None:
    store = RecordingHeartbeats()
    beating = Beating(process(interval_ms=20), store=lambda: store, file=HeartbeatFile(tmp_path, 1))
    await beating.start()
    await until(lambda: store.beats)
    store.hanging = True
    await asyncio.wait_for(beating.stop(timeout_s=0.1), timeout=5)


def test_a_booted_worker_beats_with_its_queues_until_it_shuts_down(tmp_path: Path) -> None:
    store = RecordingHeartbeats()
    broker = StubBroker(middleware=[AsyncIO(), WorkerHeartbeat(0.05, tmp_path, store=lambda: store)])
    for queue in ("validation", "persistence"):
        dramatiq.actor(_noop, actor_name=f"noop_{queue}", queue_name=queue, broker=broker)
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        first = eventually(lambda: list(store.beats.values()), timeout=10)[0]
        assert first.queues == ("persistence", "validation")  # its delay queues left out
        assert (first.pid, first.role, first.interval_ms) == (os.getpid(), "worker", 50)
        eventually(lambda: next(iter(store.beats.values())).beat_at > first.beat_at, timeout=10)  # again
        assert beat_ages(tmp_path / "heartbeats")[os.getpid()] < 5
    finally:
        worker.stop()
    assert store.beats == {} and beat_ages(tmp_path / "heartbeats") == {}


def test_a_booting_worker_clears_the_files_of_processes_that_no_longer_run(tmp_path: Path) -> None:
    directory = tmp_path / "heartbeats"
    HeartbeatFile(directory, _pid_not_running()).touch()  # a restarted container keeps its files
    broker = StubBroker(middleware=[AsyncIO(), WorkerHeartbeat(0.05, tmp_path, store=lambda: None)])
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        eventually(lambda: list(beat_ages(directory)) == [os.getpid()], timeout=10)
    finally:
        worker.stop()


def _noop() -> None:
    return None


def _pid_not_running() -> int:
    pid = 4_194_305  # above Linux's largest pid_max (2^22): never a running process
    assert not Path(f"/proc/{pid}").exists()
    return pid


async def test_stopping_ends_the_beating_even_when_a_cancel_is_swallowed(tmp_path: Path) -> None:
    """Python 3.11's wait_for can swallow a cancel that meets its inner await finishing (gh-86296); the
    loop then went on beating and stop() waited for it forever (a unit run hung an hour here)."""

    class Swallowing(Beating):
        inside = asyncio.Event()
        swallowed = 0

        async def beat_once(self) -> None:
            self.inside.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:  # as wait_for does when the cancel meets the inner's end
                self.swallowed += 1

    beating = Swallowing(
        process(interval_ms=5), store=lambda: RecordingHeartbeats(), file=HeartbeatFile(tmp_path, os.getpid())
    )
    await beating.start()
    await beating.inside.wait()  # the cancel lands inside the beat, where it is swallowed
    await asyncio.wait_for(beating.stop(), timeout=5)  # before the fix: never returned
    assert beating.swallowed == 1
