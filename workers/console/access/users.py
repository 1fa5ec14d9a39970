"""`tradeflow users add|remove|list`: admins grant and remove roles; each change is journaled with the admin.

The CLI checks that the caller holds the admin role (ops/authorize.py) before any of these runs.
"""

from __future__ import annotations

from typing import Any

from messages.records import ROLES, Role, Roster, UserRoles
from workers.access.journal import Journal
from workers.access.roles import LastAdmin, grant, remove, set_accounts
from workers.store.port import TradeStore


async def add_user(
    store: TradeStore,
    journal: Journal,
    admin: str,
    user_id: str,
    roles: list[Role],
    accounts: list[str] | None = None,
) -> dict[str, Any]:
    """Grant roles; with `accounts`, set the Alpaca accounts the user trades in (the first the default)."""
    granted = await grant(store, journal, user_id, roles, by=admin)
    if accounts is not None:
        await set_accounts(store, journal, user_id, accounts, by=admin)
    return await _change(store, user_id, admin, granted=granted)


async def remove_user(
    store: TradeStore, journal: Journal, admin: str, user_id: str, roles: list[Role] | None
) -> dict[str, Any]:
    """Remove roles (all the user's when None); LastAdmin, journaled as a refusal, for the last admin's."""
    try:
        removed = await remove(store, journal, user_id, roles, by=admin)
    except LastAdmin as exc:
        await journal.record(
            "access", "command_refused", admin, command="users remove", user_id=user_id, reason=str(exc)
        )
        raise
    return await _change(store, user_id, admin, removed=removed)


async def users_document(store: TradeStore) -> dict[str, Any]:
    """Every user who holds a role or had one removed, by user id."""
    roster = await store.get_roster()
    return {"version": roster.version, "users": [_user(roster.users[u]) for u in sorted(roster.users)]}


async def _change(store: TradeStore, user_id: str, admin: str, **changed: list[Role]) -> dict[str, Any]:
    roster: Roster = await store.get_roster()
    doc = {"user_id": user_id, "by": admin, **changed, "roles": _roles(roster.roles_of(user_id))}
    return {**doc, "accounts": list(roster.accounts_of(user_id))}


def _user(entry: UserRoles) -> dict[str, Any]:
    return {
        "user_id": entry.user_id,
        "roles": _roles(entry.roles),
        "accounts": list(entry.accounts),
        "grants": [
            {"role": g.role, "granted_by": g.granted_by, "granted_at": g.granted_at.isoformat()}
            for g in entry.grants
        ],
        "removed": [
            {"role": r.role, "removed_by": r.removed_by, "removed_at": r.removed_at.isoformat()}
            for r in entry.removals
        ],
    }


def _roles(held: frozenset[str]) -> list[str]:
    return [role for role in ROLES if role in held]


def render_change(doc: dict[str, Any]) -> str:
    if "granted" in doc:
        did = f"granted {', '.join(doc['granted'])}" if doc["granted"] else "nothing new to grant"
    else:
        did = f"removed {', '.join(doc['removed'])}" if doc["removed"] else "nothing to remove"
    now = ", ".join(doc["roles"]) or "no role"
    accounts = f"; trades in {', '.join(doc['accounts'])}" if doc.get("accounts") else ""
    return f"{doc['user_id']}: {did} (by {doc['by']}); now holds {now}{accounts}"


def render_users(doc: dict[str, Any]) -> str:
    if not doc["users"]:
        return "No user holds a role yet."
    width = max(len(user["user_id"]) for user in doc["users"])
    lines = []
    for user in doc["users"]:
        roles = ", ".join(user["roles"]) or "—"
        removed = [f"{r['role']} by {r['removed_by']}" for r in user["removed"]]
        suffix = f"  (removed: {'; '.join(removed)})" if removed else ""
        lines.append(f"{user['user_id']:<{width}}  {roles}{suffix}")
    return "\n".join(lines)
