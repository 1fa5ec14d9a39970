"""Roles: grants, removals seeding respects, the last admin kept, a cache that never refuses stale."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from messages.records import Roster
from tests.unit.fakes import NOW
from workers.access.journal import Journal
from workers.access.roles import (
    CachedRoles,
    LastAdmin,
    Seed,
    grant,
    grant_roles,
    remove,
    remove_roles,
    seed_roles,
)
from workers.store.memory.store import MemoryTradeStore
from workers.store.port import StoreUnavailable

TRADERS = Seed("trader", "TRADEFLOW_TRADERS", frozenset({"U123", "U456"}))
ADMINS = Seed("admin", "TRADEFLOW_ADMINS", frozenset({"UADMIN"}))


def test_a_grant_adds_only_the_roles_the_user_lacks() -> None:
    roster, new = grant_roles(Roster(), "U1", ["trader", "viewer"], by="UADMIN", at=NOW)
    assert new == ["trader", "viewer"] and roster.roles_of("U1") == {"trader", "viewer"}
    again, new = grant_roles(roster, "U1", ["viewer", "operator"], by="UADMIN", at=NOW)
    assert new == ["operator"] and again.roles_of("U1") == {"trader", "viewer", "operator"}
    same, new = grant_roles(again, "U1", ["trader"], by="UADMIN", at=NOW)
    assert new == [] and same is again
    [first, *_] = again.users["U1"].grants
    assert (first.role, first.granted_by, first.granted_at) == ("trader", "UADMIN", NOW)


def test_seeding_grants_the_settings_roles_once() -> None:
    roster, granted = seed_roles(Roster(), [TRADERS, ADMINS], at=NOW)
    assert granted == {
        "TRADEFLOW_TRADERS": {"trader": ["U123", "U456"]},
        "TRADEFLOW_ADMINS": {"admin": ["UADMIN"]},
    }
    assert roster.roles_of("U123") == {"trader"} and roster.roles_of("UADMIN") == {"admin"}
    assert roster.users["U123"].grants[0].granted_by == "settings:TRADEFLOW_TRADERS"
    again, granted = seed_roles(roster, [TRADERS, ADMINS], at=NOW + timedelta(hours=1))
    assert again is roster and granted == {}


def test_seeding_never_removes_and_never_grants_back_what_an_admin_removed() -> None:
    roster, _ = seed_roles(Roster(), [TRADERS, ADMINS], at=NOW)
    roster, _ = grant_roles(roster, "U789", ["trader"], by="UADMIN", at=NOW)  # not in the settings
    roster, gone = remove_roles(roster, "U456", ["trader"], by="UADMIN", at=NOW)
    assert gone == ["trader"]
    roster, granted = seed_roles(roster, [TRADERS, ADMINS], at=NOW + timedelta(hours=1))
    assert granted == {}
    assert roster.roles_of("U456") == frozenset() and roster.roles_of("U789") == {"trader"}
    # An admin may grant it again; the removal is forgotten, and a later removal is remembered anew.
    roster, new = grant_roles(roster, "U456", ["trader"], by="UADMIN", at=NOW)
    assert new == ["trader"] and roster.users["U456"].removals == ()


def test_removing_without_roles_removes_them_all_and_the_last_admin_stays() -> None:
    roster, _ = grant_roles(Roster(), "UADMIN", ["admin", "operator"], by="settings", at=NOW)
    roster, gone = remove_roles(roster, "UADMIN", ["operator"], by="UADMIN", at=NOW)
    assert gone == ["operator"]
    with pytest.raises(LastAdmin, match="last admin"):
        remove_roles(roster, "UADMIN", None, by="UADMIN", at=NOW)
    roster, _ = grant_roles(roster, "UADMIN2", ["admin", "viewer"], by="UADMIN", at=NOW)
    roster, gone = remove_roles(roster, "UADMIN2", None, by="UADMIN", at=NOW)
    assert gone == ["viewer", "admin"] and roster.roles_of("UADMIN2") == frozenset()
    unchanged, gone = remove_roles(roster, "UNOBODY", None, by="UADMIN", at=NOW)
    assert gone == [] and unchanged is roster


async def test_grants_and_removals_are_journaled_with_the_admin_who_made_them() -> None:
    store, ticks = MemoryTradeStore(), iter(range(100))
    journal = Journal(store, 2557, clock=lambda: NOW + timedelta(milliseconds=next(ticks)))
    assert await grant(store, journal, "U1", ["trader", "viewer"], by="UADMIN") == ["trader", "viewer"]
    assert await grant(store, journal, "U1", ["trader"], by="UADMIN") == []  # nothing to write, no entry
    assert await remove(store, journal, "U1", ["viewer"], by="UADMIN2") == ["viewer"]
    entries = await store.list_activity("ops", NOW, NOW + timedelta(seconds=1))
    assert [(e.event_type, e.actor, e.details) for e in entries] == [
        ("roles_granted", "UADMIN", {"user_id": "U1", "roles": ["trader", "viewer"]}),
        ("roles_removed", "UADMIN2", {"user_id": "U1", "roles": ["viewer"]}),
    ]
    assert (await store.get_roster()).roles_of("U1") == {"trader"}


async def test_racing_seeders_and_an_admin_all_land() -> None:
    store = MemoryTradeStore()
    journal = Journal(store, 2557, clock=lambda: NOW)

    async def seeder() -> object:
        from workers.access.roles import update_roster

        return await update_roster(
            store,
            lambda roster: seed_roles(roster, [TRADERS, ADMINS], at=NOW),
            lambda granted: journal.entry("ops", "roles_seeded", "settings", granted=granted),
        )

    await asyncio.gather(
        *(seeder() for _ in range(4)), grant(store, journal, "U9", ["operator"], by="UADMIN")
    )
    roster = await store.get_roster()
    assert roster.roles_of("U123") == {"trader"} and roster.roles_of("U9") == {"operator"}
    seeded = await store.list_activity("ops", NOW, NOW + timedelta(seconds=1))
    assert sorted(e.event_type for e in seeded) == ["roles_granted", "roles_seeded"]  # seeded once


class CountingStore(MemoryTradeStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get_roster(self) -> Roster:
        self.reads += 1
        return await super().get_roster()


async def settled() -> None:
    """Let a background roster read run to its end (the memory store never waits on I/O)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_the_cache_reads_the_roster_once_per_ttl_and_never_makes_a_busy_check_wait() -> None:
    store, now = CountingStore(), [0.0]
    await grant(store, Journal(store, 2557), "U123", ["trader"], by="UADMIN")
    store.reads = 0
    roles = CachedRoles(store, ttl_s=5, clock=lambda: now[0])
    assert all(await asyncio.gather(*(roles.has_role("U123", "trader") for _ in range(50))))
    assert store.reads == 1
    now[0] = 4.9
    assert await roles.has_role("U123", "trader") and store.reads == 1
    now[0] = 5.0  # stale: answered at once, and read again in the background, once
    assert all(await asyncio.gather(*(roles.has_role("U123", "trader") for _ in range(5))))
    await settled()
    assert store.reads == 2
    now[0] = 15.0  # older than twice the TTL: read first
    assert await roles.has_role("U123", "trader") and store.reads == 3


async def test_a_missing_role_is_read_again_so_a_grant_counts_at_once_and_a_removal_within_two_ttls() -> None:
    store, now = CountingStore(), [0.0]
    journal = Journal(store, 2557)
    roles = CachedRoles(store, ttl_s=5, clock=lambda: now[0])
    assert await roles.has_role("U999", "trader") is False
    await grant(store, journal, "U999", ["trader"], by="UADMIN")
    assert await roles.has_role("U999", "trader") is True  # within the TTL, yet granted
    await remove(store, journal, "U999", ["trader"], by="UADMIN")
    assert await roles.has_role("U999", "trader") is True  # a removal waits for the TTL...
    now[0] = 5.0
    assert await roles.has_role("U999", "trader") is True  # ...answered from the cache while it is reread
    await settled()
    assert await roles.has_role("U999", "trader") is False
    assert await roles.has_role("U999", "viewer", "trader") is False


async def test_an_idle_cache_reads_before_it_answers() -> None:
    store, now = CountingStore(), [0.0]
    journal = Journal(store, 2557)
    await grant(store, journal, "U999", ["trader"], by="UADMIN")
    roles = CachedRoles(store, ttl_s=5, clock=lambda: now[0])
    assert await roles.has_role("U999", "trader") is True
    await remove(store, journal, "U999", ["trader"], by="UADMIN")
    now[0] = 10.0
    assert await roles.has_role("U999", "trader") is False


class FailingOnce(MemoryTradeStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    async def get_roster(self) -> Roster:
        if self.fail:
            self.fail = False
            raise StoreUnavailable("throttled")
        return await super().get_roster()


async def test_a_failed_read_is_not_taken_for_a_fresh_roster() -> None:
    store, now = FailingOnce(), [0.0]
    await grant(store, Journal(store, 2557), "U123", ["trader"], by="UADMIN")
    roles = CachedRoles(store, ttl_s=5, clock=lambda: now[0])
    store.fail = True
    with pytest.raises(StoreUnavailable):
        await roles.has_role("U123", "trader")
    assert await roles.has_role("U123", "trader") is True  # read again, not answered from nothing


async def test_a_user_with_any_of_the_roles_asked_has_a_role() -> None:
    store = MemoryTradeStore()
    await grant(store, Journal(store, 2557), "UVIEW", ["viewer"], by="UADMIN")
    roles = CachedRoles(store, ttl_s=0)
    assert await roles.has_role("UVIEW", "viewer", "trader") is True
    assert await roles.has_role("UVIEW", "trader") is False


def test_the_admins_setting_bootstraps_the_first_admin_only() -> None:
    roster, _ = seed_roles(Roster(), [TRADERS, ADMINS], at=NOW)
    intruders = Seed("admin", "TRADEFLOW_ADMINS", frozenset({"UEVIL"}))
    more_traders = Seed("trader", "TRADEFLOW_TRADERS", frozenset({"U999"}))
    later, granted = seed_roles(roster, [more_traders, intruders], at=NOW + timedelta(hours=1))
    assert granted == {"TRADEFLOW_TRADERS": {"trader": ["U999"]}}
    assert later.roles_of("UEVIL") == frozenset() and later.roles_of("U999") == {"trader"}


def test_an_admin_ever_granted_ends_the_bootstrap_even_once_removed() -> None:
    roster, _ = grant_roles(Roster(), "UADMIN", ["admin"], by="settings", at=NOW)
    roster, _ = grant_roles(roster, "UADMIN2", ["admin"], by="UADMIN", at=NOW)
    roster, _ = remove_roles(roster, "UADMIN2", ["admin"], by="UADMIN", at=NOW)
    _, granted = seed_roles(roster, [Seed("admin", "TRADEFLOW_ADMINS", frozenset({"UEVIL"}))], at=NOW)
    assert granted == {}
