"""The ActivityJournal contract: append-only entries, a stream's window oldest first."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone

from messages.records import ActivityEvent
from tests.contract.builders import NOW, journal_entry
from workers.store.port import ActivityJournal


async def test_entries_are_listed_by_stream_oldest_first(store: ActivityJournal) -> None:
    ops = [journal_entry(NOW + timedelta(seconds=s), reason=f"drill {s}") for s in (3, 1, 2)]
    session = journal_entry(NOW, stream="session", event_type="slash_command", user_id="U123", team_id="T1")
    for event in [*ops, session]:
        assert await store.append_activity(event) is True
    window = (NOW, NOW + timedelta(minutes=1))
    assert await store.list_activity("ops", *window) == sorted(ops, key=lambda e: e.at)
    assert await store.list_activity("session", *window) == [session]
    assert await store.list_activity("access", *window) == []
    assert await store.list_activity("ops", *window, limit=2) == sorted(ops, key=lambda e: e.at)[:2]


async def test_details_come_back_as_they_were_written(store: ActivityJournal) -> None:
    event = journal_entry(
        NOW,
        stream="ops",
        event_type="dead_letters_replayed",
        queue="execution.XQ",
        replayed=[{"message_id": "m1", "trade_id": str(uuid.uuid4())}],
        count=1,
        confirmed=True,
    )
    await store.append_activity(event)
    [stored] = await store.list_activity("ops", NOW, NOW + timedelta(seconds=1))
    assert stored == event


async def test_an_entry_is_never_replaced(store: ActivityJournal) -> None:
    event = journal_entry(NOW, reason="first")
    assert await store.append_activity(event) is True
    forged = ActivityEvent(**{**{f: getattr(event, f) for f in event.__struct_fields__}, "actor": "MALLORY"})
    assert await store.append_activity(forged) is False
    assert await store.list_activity("ops", NOW, NOW + timedelta(seconds=1)) == [event]


async def test_a_window_spans_utc_days_since_inclusive_until_exclusive(store: ActivityJournal) -> None:
    midnight = datetime(2026, 11, 26, tzinfo=UTC)
    events = [journal_entry(midnight + timedelta(hours=h)) for h in (-1, 0, 1, 25)]
    await asyncio.gather(*(store.append_activity(event) for event in events))
    day_and_a_bit = (midnight - timedelta(hours=1), midnight + timedelta(hours=25))
    assert await store.list_activity("ops", *day_and_a_bit) == events[:3]
    # The same window written in another offset; and a window that starts exactly at an entry
    minus_five = timezone(timedelta(hours=-5))
    since = (midnight - timedelta(hours=1)).astimezone(minus_five)
    assert await store.list_activity("ops", since, since + timedelta(hours=1)) == events[:1]
    assert await store.list_activity("ops", midnight, midnight + timedelta(days=2)) == events[1:]
