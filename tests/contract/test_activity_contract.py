"""The TradeStore contract for the activity journal: append-only entries, a stream's window oldest first."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from messages.records import ActivityEvent
from tests.contract.builders import EXPIRES_AT, NOW
from workers.store.port import TradeStore


def entry(
    at: datetime, *, stream: str = "ops", event_type: str = "trading_halted", **details: Any
) -> ActivityEvent:
    return ActivityEvent(
        stream=stream,  # type: ignore[arg-type]
        event_type=event_type,
        actor="OPS1",
        at=at,
        event_id=uuid.uuid4(),
        details=details,
        expires_at=EXPIRES_AT,
    )


async def test_entries_are_listed_by_stream_oldest_first(store: TradeStore) -> None:
    ops = [entry(NOW + timedelta(seconds=s), reason=f"drill {s}") for s in (3, 1, 2)]
    session = entry(NOW, stream="session", event_type="slash_command", user_id="U123", team_id="T1")
    for event in [*ops, session]:
        assert await store.append_activity(event) is True
    window = (NOW, NOW + timedelta(minutes=1))
    assert await store.list_activity("ops", *window) == sorted(ops, key=lambda e: e.at)
    assert await store.list_activity("session", *window) == [session]
    assert await store.list_activity("access", *window) == []
    assert await store.list_activity("ops", *window, limit=2) == sorted(ops, key=lambda e: e.at)[:2]


async def test_details_come_back_as_they_were_written(store: TradeStore) -> None:
    event = entry(
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


async def test_an_entry_is_never_replaced(store: TradeStore) -> None:
    event = entry(NOW, reason="first")
    assert await store.append_activity(event) is True
    forged = ActivityEvent(**{**{f: getattr(event, f) for f in event.__struct_fields__}, "actor": "MALLORY"})
    assert await store.append_activity(forged) is False
    assert await store.list_activity("ops", NOW, NOW + timedelta(seconds=1)) == [event]


async def test_a_window_spans_utc_days_since_inclusive_until_exclusive(store: TradeStore) -> None:
    midnight = datetime(2026, 11, 26, tzinfo=UTC)
    events = [entry(midnight + timedelta(hours=h)) for h in (-1, 0, 1, 25)]
    await asyncio.gather(*(store.append_activity(event) for event in events))
    day_and_a_bit = (midnight - timedelta(hours=1), midnight + timedelta(hours=25))
    assert await store.list_activity("ops", *day_and_a_bit) == events[:3]
    # The same window written in another offset; and a window that starts exactly at an entry
    minus_five = timezone(timedelta(hours=-5))
    since = (midnight - timedelta(hours=1)).astimezone(minus_five)
    assert await store.list_activity("ops", since, since + timedelta(hours=1)) == events[:1]
    assert await store.list_activity("ops", midnight, midnight + timedelta(days=2)) == events[1:]


async def test_the_kill_switch_is_set_with_its_journal_entry(store: TradeStore) -> None:
    from messages.records import KillSwitch

    halted = KillSwitch(engaged=True, reason="drill", changed_by="OPS1", changed_at=NOW)
    event = entry(NOW, reason="drill")
    await store.set_kill_switch(halted, event)
    assert await store.get_kill_switch() == halted
    assert await store.list_activity("ops", NOW, NOW + timedelta(seconds=1)) == [event]
