"""A session journal entry that meets a store outage is written again until the store is back, once, with
its original stamp; it is logged as lost only when the outage budget has passed (the poison_number check)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from messages.records import ActivityEvent
from workers.access.journal import Journal
from workers.slack.after_answer import AfterAnswer
from workers.slack.journal_retries import JournalRetries
from workers.slack.session import SessionAudit
from workers.store.memory.store import MemoryTradeStore
from workers.store.port import StoreUnavailable

STAMPED = datetime(2025, 11, 25, 14, 30, tzinfo=UTC)
CONTEXT = {"user_id": "UTRADER", "team_id": "T1", "channel_id": "C1"}


class DownStore(MemoryTradeStore):
    """The memory store, unavailable for its first `failures` journal writes; with `landing`, those writes
    land before they raise (a timeout after DynamoDB wrote the item)."""

    def __init__(self, failures: int, *, landing: bool = False, error: Exception | None = None) -> None:
        super().__init__()
        self.failures, self.landing, self.error = failures, landing, error
        self.puts = 0

    async def append_activity(self, event: ActivityEvent) -> bool:
        self.puts += 1
        if self.error is not None:
            raise self.error
        if self.puts <= self.failures:
            if self.landing:
                await super().append_activity(event)
            raise StoreUnavailable("append_activity: connection refused")
        return await super().append_activity(event)


class FakeTime:
    """A monotonic clock that only the retries' backoff moves: no test sleeps for real."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def audit(
    store: MemoryTradeStore, time: FakeTime, *, budget_s: float = 600.0, max_waiting: int = 100
) -> SessionAudit:
    journal = Journal(store, 2557, clock=lambda: STAMPED)
    retries = JournalRetries(
        journal, budget_s=budget_s, max_waiting=max_waiting, clock=time.clock, sleep=time.sleep
    )
    return SessionAudit(journal, AfterAnswer(), retries=retries)


async def settled(session: SessionAudit) -> None:
    """Until the first tries and the retries have all ended (the fake backoff takes no time)."""
    for _ in range(10_000):
        await asyncio.sleep(0)
        if not session.after_answer.running and not session.retries.waiting:
            return
    raise AssertionError(f"{session.retries.waiting} entries still waiting")


async def session_journal(store: MemoryTradeStore) -> list[ActivityEvent]:
    return await store.list_activity(
        "session", STAMPED - timedelta(minutes=1), STAMPED + timedelta(minutes=1)
    )


async def test_an_entry_is_journaled_once_with_its_stamp_when_the_store_comes_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, time = DownStore(failures=3), FakeTime()
    session = audit(store, time)

    session.interaction("view_submission", CONTEXT, view_id="V1", outcome="form_errors", fields=["quantity"])
    await settled(session)

    (entry,) = await session_journal(store)
    assert (entry.event_type, entry.actor, entry.at) == ("view_submission", "UTRADER", STAMPED)
    assert entry.details["outcome"] == "form_errors"
    assert store.puts == 4  # the first try and three more
    assert time.slept == [0.5, 1.0]  # backing off between the retries, none after the one that wrote it
    assert session.retries.written == 1 and session.retries.lost == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_entry_is_logged_as_lost_only_when_the_budget_has_passed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, time = DownStore(failures=10**9), FakeTime()
    session = audit(store, time, budget_s=60.0)

    session.interaction("view_submission", CONTEXT, view_id="V1", outcome="form_errors")
    await settled(session)

    assert await session_journal(store) == []
    assert time.slept == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0, 4.5]  # capped at 10 s
    assert sum(time.slept) == 60.0  # the last try when the budget has passed, and none after it
    assert session.retries.lost == 1
    (lost,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "view_submission of UTRADER" in lost.getMessage() and "NOT journaled, lost" in lost.getMessage()


async def test_a_retry_after_a_write_that_landed_although_it_failed_is_no_duplicate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, time = DownStore(failures=1, landing=True), FakeTime()
    session = audit(store, time)

    session.interaction("slash_command", CONTEXT, outcome="help")
    await settled(session)

    (entry,) = await session_journal(store)
    assert entry.at == STAMPED and store.puts == 2
    assert session.retries.written == 1 and session.retries.lost == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_failure_other_than_an_outage_is_logged_once_and_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, time = DownStore(failures=0, error=ValueError("a bug of ours")), FakeTime()
    session = audit(store, time)

    session.interaction("slash_command", CONTEXT, outcome="help")
    await settled(session)

    assert store.puts == 1 and time.slept == [] and session.retries.waiting == 0
    (failed,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "slash_command of UTRADER NOT journaled" in failed.getMessage()


async def test_entries_past_the_bound_on_waiting_ones_are_logged_as_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, time = DownStore(failures=10**9), FakeTime()
    journal = Journal(store, 2557, clock=lambda: STAMPED)
    retries = JournalRetries(journal, max_waiting=2, clock=time.clock, sleep=time.sleep)
    entries = [journal.entry("session", f"action_{n}", "UTRADER") for n in range(3)]

    for entry in entries:
        retries.add(entry)

    assert retries.waiting == 2 and retries.lost == 1
    (dropped,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "action_2 of UTRADER" in dropped.getMessage()
    await retries.close(timeout_s=0.05)


async def test_stopping_tries_the_waiting_entries_at_once() -> None:
    store = DownStore(failures=2)
    journal = Journal(store, 2557, clock=lambda: STAMPED)
    session = SessionAudit(journal, AfterAnswer(), retries=JournalRetries(journal, first_backoff_s=3_600.0))

    session.interaction("slash_command", CONTEXT, outcome="help")
    for _ in range(100):  # the first try and one retry fail; the retries then wait an hour
        await asyncio.sleep(0)

    await asyncio.wait_for(session.close(timeout_s=5.0), timeout=5.0)

    assert len(await session_journal(store)) == 1 and session.retries.written == 1


async def test_stopping_gives_an_outage_a_bounded_time_then_logs_the_waiting_entries_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = DownStore(failures=10**9)
    journal = Journal(store, 2557, clock=lambda: STAMPED)
    session = SessionAudit(journal, AfterAnswer(), retries=JournalRetries(journal, first_backoff_s=0.01))

    session.interaction("slash_command", CONTEXT, outcome="help")
    await asyncio.wait_for(session.close(timeout_s=0.1), timeout=5.0)

    assert session.retries.lost == 1 and session.retries.waiting == 0
    (lost,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "slash_command of UTRADER" in lost.getMessage() and "after stop" in lost.getMessage()
    session.interaction("slash_command", CONTEXT, outcome="help")  # after the stop: lost at once, not waiting
    await session.after_answer.drain()
    assert session.retries.lost == 2 and session.retries.waiting == 0
