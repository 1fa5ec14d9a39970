"""The RosterStore contract: one roster, replaced only by the writer holding its current version."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import msgspec

from messages.records import ActivityEvent, RoleGrant, RoleRemoval, Roster, UserRoles
from tests.contract.builders import EXPIRES_AT, NOW
from workers.store.port import RosterStore, TradeStore


def roster_of(**users: tuple[str, ...]) -> Roster:
    return Roster(
        users={
            user: UserRoles(
                user_id=user,
                grants=tuple(RoleGrant(role=role, granted_by="UADMIN", granted_at=NOW) for role in roles),  # type: ignore[arg-type]
            )
            for user, roles in users.items()
        }
    )


async def test_a_store_without_roles_has_an_empty_roster_at_version_0(store: RosterStore) -> None:
    assert await store.get_roster() == Roster(users={}, version=0)


async def test_the_first_roster_is_written_once_and_read_back_whole(store: RosterStore) -> None:
    removed = RoleRemoval(role="trader", removed_by="UADMIN", removed_at=NOW + timedelta(seconds=1))
    roster = roster_of(U1=("trader", "viewer"), U2=("admin",))
    roster = msgspec.structs.replace(
        roster, users={**roster.users, "U3": UserRoles(user_id="U3", removals=(removed,))}
    )
    assert await store.put_roster(roster, expected_version=0) is True
    stored = await store.get_roster()
    assert stored == msgspec.structs.replace(roster, version=1)
    assert stored.roles_of("U1") == {"trader", "viewer"} and stored.roles_of("U3") == frozenset()
    assert await store.put_roster(roster_of(U9=("admin",)), expected_version=0) is False  # one exists
    assert await store.get_roster() == stored


async def test_a_roster_replaces_only_the_version_it_was_read_at(store: RosterStore) -> None:
    assert await store.put_roster(roster_of(U1=("trader",)), expected_version=0)
    assert await store.put_roster(roster_of(U1=("trader", "operator")), expected_version=1)
    assert await store.put_roster(roster_of(U1=()), expected_version=1) is False  # stale
    stored = await store.get_roster()
    assert stored.version == 2 and stored.roles_of("U1") == {"trader", "operator"}


async def test_of_racing_writers_of_one_version_exactly_one_wins(store: RosterStore) -> None:
    assert await store.put_roster(roster_of(U1=("trader",)), expected_version=0)
    writes = [roster_of(U1=("trader",), **{f"U{n}": ("viewer",)}) for n in range(2, 8)]
    results = await asyncio.gather(*(store.put_roster(roster, expected_version=1) for roster in writes))
    assert sorted(results) == [False] * 5 + [True]
    stored = await store.get_roster()
    assert stored.version == 2
    assert msgspec.structs.replace(stored, version=0) == writes[results.index(True)]


async def test_a_roster_and_its_journal_entry_are_written_together_or_not_at_all(store: TradeStore) -> None:
    first = change("U1", "role_granted")
    assert await store.put_roster(roster_of(U1=("trader",)), expected_version=0, activity=first) is True
    lost = change("U2", "role_granted")
    assert await store.put_roster(roster_of(U2=("admin",)), expected_version=0, activity=lost) is False
    window = (NOW - timedelta(seconds=1), NOW + timedelta(seconds=1))
    assert await store.list_activity("ops", *window) == [first]
    assert (await store.get_roster()).roles_of("U2") == frozenset()


def change(user_id: str, event_type: str) -> ActivityEvent:
    return ActivityEvent(
        stream="ops",
        event_type=event_type,
        actor="UADMIN",
        at=NOW,
        event_id=uuid.uuid4(),
        details={"user_id": user_id, "roles": ["trader"]},
        expires_at=EXPIRES_AT,
    )
