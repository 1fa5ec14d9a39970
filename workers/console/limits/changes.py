"""Setting and clearing one scope's limits in DeskLimits, each change named with its old and new value.

A scope is the desk (`owner` None), a trader (their user id) or an account (its name). A trader or account
left with no limit set is dropped from the item; the desk's entry stays, empty. A change that changes
nothing gives back the limits it was given, so nothing is written (access/desk_controls.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from messages.limits import LIMIT_NAMES, DeskLimits, LimitScope, RiskLimits
from workers.console.limits.bounds import Value


@dataclass(frozen=True)
class Scope:
    kind: LimitScope
    owner: str | None = None  # the trader's user id or the account's name; None for the desk

    def limits_in(self, desk: DeskLimits) -> RiskLimits:
        """This scope's own limits (empty when none are set)."""
        if self.kind == "desk":
            return desk.desk
        return _scopes(desk, self.kind).get(self.owner or "", RiskLimits())

    def details(self) -> dict[str, Any]:
        """The scope as the journal names it."""
        named = {"user": "user_id", "account": "account"}.get(self.kind)
        return {"scope": self.kind, **({named: self.owner} if named else {})}


LimitChange = dict[str, Any]  # {"limit": name, "old": value or None, "new": value or None}


def set_limits(
    desk: DeskLimits, scope: Scope, values: Mapping[str, Value], *, by: str, at: datetime
) -> tuple[DeskLimits, list[LimitChange]]:
    """The limits with `values` set in `scope`; and each limit that changed."""
    return _changed(desk, scope, dict(values), by=by, at=at)


def clear_limits(
    desk: DeskLimits, scope: Scope, names: Iterable[str] | None, *, by: str, at: datetime
) -> tuple[DeskLimits, list[LimitChange]]:
    """The limits with `names` (all when None) unset in `scope`; and each limit that was set."""
    return _changed(desk, scope, dict.fromkeys(LIMIT_NAMES if names is None else names), by=by, at=at)


def _changed(
    desk: DeskLimits, scope: Scope, wanted: dict[str, Value | None], *, by: str, at: datetime
) -> tuple[DeskLimits, list[LimitChange]]:
    own = scope.limits_in(desk)
    changes = [
        {"limit": name, "old": getattr(own, name), "new": wanted[name]}
        for name in LIMIT_NAMES
        if name in wanted and getattr(own, name) != wanted[name]
    ]
    if not changes:
        return desk, []
    updated = msgspec.structs.replace(
        own, **{change["limit"]: change["new"] for change in changes}, updated_by=by, updated_at=at
    )
    return _with(desk, scope, updated), changes


def _with(desk: DeskLimits, scope: Scope, limits: RiskLimits) -> DeskLimits:
    if scope.kind == "desk":
        return msgspec.structs.replace(desk, desk=limits)
    owner = scope.owner or ""
    others = {name: kept for name, kept in _scopes(desk, scope.kind).items() if name != owner}
    kept_scopes = {**others, owner: limits} if any_set(limits) else others
    field = "users" if scope.kind == "user" else "accounts"
    return msgspec.structs.replace(desk, **{field: kept_scopes})


def _scopes(desk: DeskLimits, kind: LimitScope) -> dict[str, RiskLimits]:
    return desk.users if kind == "user" else desk.accounts


def any_set(limits: RiskLimits) -> bool:
    return any(getattr(limits, name) is not None for name in LIMIT_NAMES)
