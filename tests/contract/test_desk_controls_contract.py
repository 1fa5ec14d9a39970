"""The DeskControls contract: the limits and the alert preferences, each one item replaced only by the writer
holding its current version, with its journal entry or not at all; a marker put once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import msgspec

from messages.alerts import AlertChoice, AlertPreferences
from messages.limits import DeskLimits, RiskLimits
from tests.contract.builders import EXPIRES_AT, NOW, journal_entry
from workers.store.port import DeskControls, TradeStore

WINDOW = (NOW - timedelta(seconds=1), NOW + timedelta(seconds=1))


def limits(**desk: object) -> DeskLimits:
    return DeskLimits(
        desk=RiskLimits(**desk, updated_by="OPS1", updated_at=NOW),  # type: ignore[arg-type]
        users={"U1": RiskLimits(max_open_orders=3, daily_buy_notional=Decimal("12500.25"))},
        accounts={"growth": RiskLimits(approval_notional=Decimal("100000"), max_orders_per_minute=20)},
    )


def preferences(email: str) -> AlertPreferences:
    return AlertPreferences(
        desk=AlertChoice(kinds=("halt", "drift"), email=email, phone="+15551234567", updated_at=NOW),
        users={
            "U1": AlertChoice(kinds=("large_trade",), email="u1@desk.example", min_notional=Decimal("2.5"))
        },
    )


async def test_a_desk_without_controls_reads_empty_at_version_0(store: DeskControls) -> None:
    assert await store.get_limits() == DeskLimits()
    assert await store.get_alert_preferences() == AlertPreferences()
    assert await store.is_done("alert#1") is False


async def test_limits_are_read_back_whole_with_counts_as_ints_and_amounts_exact(store: DeskControls) -> None:
    written = limits(max_open_orders=5, duplicate_window_s=30, price_collar_pct=Decimal("2.50"))
    assert await store.put_limits(written, expected_version=0) is True
    stored = await store.get_limits()
    assert stored == msgspec.structs.replace(written, version=1)
    assert isinstance(stored.desk.max_open_orders, int)
    assert isinstance(stored.users["U1"].max_open_orders, int)
    assert stored.accounts["growth"].max_orders_per_minute == 20
    assert stored.for_user("U1").max_open_orders == 3 and stored.for_user("U2").max_open_orders == 5


async def test_limits_replace_only_the_version_they_were_read_at(store: DeskControls) -> None:
    assert await store.put_limits(limits(max_open_orders=5), expected_version=0)
    assert await store.put_limits(limits(max_open_orders=6), expected_version=0) is False  # one exists
    assert await store.put_limits(limits(max_open_orders=7), expected_version=1)
    assert await store.put_limits(limits(max_open_orders=8), expected_version=1) is False  # stale
    stored = await store.get_limits()
    assert (stored.version, stored.desk.max_open_orders) == (2, 7)


async def test_of_racing_limit_writers_of_one_version_exactly_one_wins(store: DeskControls) -> None:
    assert await store.put_limits(limits(max_open_orders=1), expected_version=0)
    writes = [limits(max_open_orders=n) for n in range(2, 8)]
    results = await asyncio.gather(*(store.put_limits(written, expected_version=1) for written in writes))
    assert sorted(results) == [False] * 5 + [True]
    stored = await store.get_limits()
    assert msgspec.structs.replace(stored, version=0) == writes[results.index(True)]


async def test_limits_and_their_journal_entry_are_written_together_or_not_at_all(store: TradeStore) -> None:
    first = journal_entry(NOW, event_type="limits_set", scope="desk")
    assert await store.put_limits(limits(max_open_orders=5), expected_version=0, activity=first) is True
    lost = journal_entry(NOW, event_type="limits_set", scope="desk")
    assert await store.put_limits(limits(max_open_orders=9), expected_version=0, activity=lost) is False
    assert await store.list_activity("ops", *WINDOW) == [first]
    assert (await store.get_limits()).desk.max_open_orders == 5


async def test_alert_preferences_replace_only_their_version_with_their_journal(store: TradeStore) -> None:
    first = journal_entry(NOW, event_type="alert_preferences_set")
    written = preferences("ops@desk.example")
    assert await store.put_alert_preferences(written, expected_version=0, activity=first) is True
    assert await store.get_alert_preferences() == msgspec.structs.replace(written, version=1)
    stale = journal_entry(NOW, event_type="alert_preferences_set")
    assert await store.put_alert_preferences(preferences("x@y.example"), 0, activity=stale) is False
    assert await store.put_alert_preferences(preferences("new@desk.example"), expected_version=1) is True
    stored = await store.get_alert_preferences()
    assert (stored.version, stored.desk.email) == (2, "new@desk.example")
    assert stored.users["U1"].min_notional == Decimal("2.5")
    assert await store.list_activity("ops", *WINDOW) == [first]


async def test_the_limits_and_the_preferences_are_versioned_apart(store: DeskControls) -> None:
    assert await store.put_limits(limits(max_open_orders=5), expected_version=0)
    assert await store.put_alert_preferences(preferences("ops@desk.example"), expected_version=0)
    assert (await store.get_limits()).version == (await store.get_alert_preferences()).version == 1


async def test_a_marker_is_put_once_by_one_of_racing_writers(store: DeskControls) -> None:
    assert await store.mark_done("alert#a1", expires_at=EXPIRES_AT) is True
    assert await store.mark_done("alert#a1", expires_at=EXPIRES_AT + 60) is False
    assert await store.is_done("alert#a1") is True and await store.is_done("alert#a2") is False
    claims = await asyncio.gather(*(store.mark_done("alert#a3", expires_at=EXPIRES_AT) for _ in range(8)))
    assert claims.count(True) == 1
