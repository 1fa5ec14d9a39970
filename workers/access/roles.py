"""Roles: the roster's changes (grant, remove, seed from the settings) and a cached reader of it.

Seeding: every process that checks roles (each worker process, the ingress, and each `tradeflow` command
that checks one) grants the roles the settings name, TRADEFLOW_TRADERS (and TRADEFLOW_DOCTOR_USER) as
trader, to each named user who neither holds that role nor had it removed by an admin. TRADEFLOW_ADMINS
bootstraps the first admin only: it is honoured while nobody holds or ever held the admin role, and is
inert from then on, so a variable set on one command cannot make anyone an admin of a running desk (only an
admin grants admin). Seeding never removes a role, and a role an admin removed is never granted back by the
settings: only an admin grants it again. Running it twice changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import msgspec

from messages.records import ROLES, ActivityEvent, Role, RoleGrant, RoleRemoval, Roster, UserRoles
from workers.access.journal import Journal
from workers.settings import Settings
from workers.store.port import StoreUnavailable, TradeStore

logger = logging.getLogger("tradeflow.access")

SEED_ACTOR = "settings"
MAX_ATTEMPTS = 10
T = TypeVar("T")


class LastAdmin(ValueError):
    """The change would leave nobody able to manage roles."""


@dataclass(frozen=True)
class Seed:
    """Users a setting names for a role."""

    role: Role
    setting: str
    users: frozenset[str]


def settings_seeds(settings: Settings) -> tuple[Seed, ...]:
    return (
        Seed("trader", "TRADEFLOW_TRADERS", settings.traders),
        # The doctor's check trades through the real chain, so its user must be a trader too.
        Seed("trader", "TRADEFLOW_DOCTOR_USER", frozenset({settings.tradeflow_doctor_user})),
        Seed("admin", "TRADEFLOW_ADMINS", settings.admins),
    )


def grant_roles(
    roster: Roster, user_id: str, roles: Iterable[Role], *, by: str, at: datetime
) -> tuple[Roster, list[Role]]:
    """The roster with `roles` granted to the user, any removal of them forgotten; and the roles now new."""
    entry = roster.users.get(user_id) or UserRoles(user_id=user_id)
    wanted = set(roles)
    new = [role for role in ROLES if role in wanted and role not in entry.roles]
    if not new:
        return roster, []
    grants = entry.grants + tuple(RoleGrant(role=role, granted_by=by, granted_at=at) for role in new)
    removals = tuple(removal for removal in entry.removals if removal.role not in wanted)
    return _with(roster, msgspec.structs.replace(entry, grants=grants, removals=removals)), new


def remove_roles(
    roster: Roster, user_id: str, roles: Iterable[Role] | None, *, by: str, at: datetime
) -> tuple[Roster, list[Role]]:
    """The roster without the user's `roles` (all of them when None), each removal remembered; and the
    roles removed. Raises LastAdmin rather than take the admin role from the last admin."""
    entry = roster.users.get(user_id)
    if entry is None:
        return roster, []
    wanted = entry.roles if roles is None else set(roles)
    gone = [role for role in ROLES if role in wanted and role in entry.roles]
    if not gone:
        return roster, []
    if "admin" in gone and not any("admin" in u.roles for u in roster.users.values() if u.user_id != user_id):
        raise LastAdmin(f"{user_id} is the last admin: grant admin to someone else first")
    grants = tuple(grant for grant in entry.grants if grant.role not in gone)
    removals = tuple(removal for removal in entry.removals if removal.role not in gone) + tuple(
        RoleRemoval(role=role, removed_by=by, removed_at=at) for role in gone
    )
    return _with(roster, msgspec.structs.replace(entry, grants=grants, removals=removals)), gone


def seed_roles(
    roster: Roster, seeds: Iterable[Seed], *, at: datetime
) -> tuple[Roster, dict[str, dict[str, list[str]]]]:
    """The roster with every seeded role an admin never removed; and what was granted, by setting and role."""
    granted: dict[str, dict[str, list[str]]] = {}
    bootstrapping = not _ever_had_an_admin(roster)
    for seed in seeds:
        if seed.role == "admin" and not bootstrapping:
            continue  # the desk has its admins: only they grant admin from now on
        for user_id in sorted(seed.users):
            entry = roster.users.get(user_id) or UserRoles(user_id=user_id)
            if any(removal.role == seed.role for removal in entry.removals):
                continue  # an admin took it away: the settings do not give it back
            roster, new = grant_roles(roster, user_id, [seed.role], by=f"{SEED_ACTOR}:{seed.setting}", at=at)
            if new:
                granted.setdefault(seed.setting, {}).setdefault(seed.role, []).append(user_id)
    return roster, granted


def _ever_had_an_admin(roster: Roster) -> bool:
    return any(
        "admin" in {grant.role for grant in user.grants} | {removal.role for removal in user.removals}
        for user in roster.users.values()
    )


def _with(roster: Roster, entry: UserRoles) -> Roster:
    return Roster(users={**roster.users, entry.user_id: entry}, version=roster.version)


async def update_roster(
    store: TradeStore,
    change: Callable[[Roster], tuple[Roster, T]],
    entry: Callable[[T], ActivityEvent],
) -> T:
    """Apply `change` to the stored roster and write it with its journal `entry`, retrying when another
    writer got there first. Nothing is written when the change changes nothing."""
    for attempt in range(MAX_ATTEMPTS):
        current = await store.get_roster()
        updated, result = change(current)
        if updated is current:
            return result
        if await store.put_roster(updated, current.version, entry(result)):
            return result
        await asyncio.sleep(random.uniform(0, 0.02 * 2**attempt))  # racing seeders: spread them out
    raise StoreUnavailable(f"the roster changed under {MAX_ATTEMPTS} attempts in a row")


async def grant(
    store: TradeStore, journal: Journal, user_id: str, roles: Iterable[Role], *, by: str
) -> list[Role]:
    """Grant `roles` to the user as admin `by`; the journal says who granted what. The roles now new."""
    at = journal.clock()
    return await update_roster(
        store,
        lambda roster: grant_roles(roster, user_id, roles, by=by, at=at),
        lambda new: journal.entry("ops", "roles_granted", by, user_id=user_id, roles=list(new)),
    )


async def remove(
    store: TradeStore, journal: Journal, user_id: str, roles: Iterable[Role] | None, *, by: str
) -> list[Role]:
    """Remove the user's `roles` (all when None) as admin `by`; the journal says who. The roles removed."""
    at = journal.clock()
    return await update_roster(
        store,
        lambda roster: remove_roles(roster, user_id, roles, by=by, at=at),
        lambda gone: journal.entry("ops", "roles_removed", by, user_id=user_id, roles=list(gone)),
    )


def assign_accounts(
    roster: Roster, user_id: str, accounts: Sequence[str]
) -> tuple[Roster, tuple[str, ...] | None]:
    """The roster with the user's accounts set (the first their default); None when nothing changed."""
    entry = roster.users.get(user_id) or UserRoles(user_id=user_id)
    wanted = tuple(dict.fromkeys(accounts))
    if entry.accounts == wanted:
        return roster, None
    return _with(roster, msgspec.structs.replace(entry, accounts=wanted)), wanted


async def set_accounts(
    store: TradeStore, journal: Journal, user_id: str, accounts: Sequence[str], *, by: str
) -> tuple[str, ...] | None:
    """Set the Alpaca accounts a trader trades in as admin `by` (journaled); None when already so."""
    return await update_roster(
        store,
        lambda roster: assign_accounts(roster, user_id, accounts),
        lambda set_to: journal.entry("ops", "accounts_set", by, user_id=user_id, accounts=list(set_to or ())),
    )


async def seed_from_settings(
    store: TradeStore, journal: Journal, settings: Settings
) -> dict[str, dict[str, list[str]]]:
    """Seed the roster from the settings (see the module's docstring); what was granted, by setting."""
    at = journal.clock()
    return await update_roster(
        store,
        lambda roster: seed_roles(roster, settings_seeds(settings), at=at),
        lambda granted: journal.entry("ops", "roles_seeded", SEED_ACTOR, granted=granted),
    )


class CachedRoles:
    """Answers role checks from the roster the process last read, so a trade costs no store read.

    A roster younger than `ttl_s` is used as it is; one younger than twice that is used too while a fresh
    one is read in the background, so under steady load no check waits for a read; an older one is read
    again first. When the roster does not grant a role, a fresh one is read before the answer is no: a
    grant counts at once, and a removal reaches every process within 2 × `ttl_s`.
    """

    def __init__(
        self, store: TradeStore, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._roster = Roster()
        self._read_at: float | None = None
        self._started = 0  # reads started so far, numbered from 0
        self._done: int | None = None  # the number of the last read that completed
        self._refresh: asyncio.Task[Roster] | None = None

    async def accounts_of(self, user_id: str) -> tuple[str, ...]:
        """The user's accounts, the first their default (empty: the desk's default), from a fresh roster
        when the cached one is older than its time to live."""
        age = None if self._read_at is None else self._clock() - self._read_at
        roster = self._roster if age is not None and age < self._ttl_s else await self._read()
        return roster.accounts_of(user_id)

    async def has_role(self, user_id: str, *roles: Role) -> bool:
        """True when the user holds any of `roles`."""
        age = None if self._read_at is None else self._clock() - self._read_at
        if age is not None and age < 2 * self._ttl_s and self._roster.roles_of(user_id) & set(roles):
            if age >= self._ttl_s:
                self._refresh_in_background()
            return True
        roster = await self._read()
        return bool(roster.roles_of(user_id) & set(roles))

    def _refresh_in_background(self) -> None:
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._read())
            self._refresh.add_done_callback(_log_refresh_failure)

    async def _read(self) -> Roster:
        asked = self._started
        async with self._lock:
            # Reads run one at a time, under the lock: one that started after we asked serves us too.
            if self._done is None or self._done < asked:
                number, started_at = self._started, self._clock()
                self._started += 1
                self._roster = await self._store.get_roster()
                self._done, self._read_at = number, started_at
            return self._roster


def _log_refresh_failure(task: asyncio.Task[Roster]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("Roles: the roster could not be refreshed: %r", task.exception())
