"""The limits as documents (JSON-ready: Decimals as strings) and as text for people."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from messages.limits import LIMIT_NAMES, DeskLimits, RiskLimits
from workers.console.limits.bounds import RULES
from workers.console.limits.changes import LimitChange, Scope


def limits_document(limits: DeskLimits, *, user_id: str | None = None, account: str | None = None) -> Any:
    """Every scope's limits; or one trader's own, the desk's defaults and the effective ones; or one
    account's."""
    if user_id is not None:
        return {
            "version": limits.version,
            "user_id": user_id,
            "own": _document(limits.users.get(user_id, RiskLimits())),
            "desk": _document(limits.desk),
            "effective": _values(limits.for_user(user_id)),
        }
    if account is not None:
        return {
            "version": limits.version,
            "account": account,
            "limits": _document(limits.for_account(account)),
        }
    return {
        "version": limits.version,
        "desk": _document(limits.desk),
        "users": {user: _document(limits.users[user]) for user in sorted(limits.users)},
        "accounts": {name: _document(limits.accounts[name]) for name in sorted(limits.accounts)},
    }


def change_document(
    command: str, scope: Scope, by: str, changes: list[LimitChange], limits: DeskLimits, version: int
) -> dict[str, Any]:
    """What `limits set|clear` did: each change with its old and new value, and the scope's limits now
    (`limits`, stored as `version`)."""
    return {
        "command": command,
        **scope.details(),
        "by": by,
        "changes": [
            {**change, "old": _json(change["old"]), "new": _json(change["new"])} for change in changes
        ],
        "limits": _values(scope.limits_in(limits)),
        "version": version,
    }


def render_limits(doc: dict[str, Any]) -> str:
    if "user_id" in doc:
        return "\n".join(
            [
                f"Trader {doc['user_id']}'s own limits:",
                *_lines(doc["own"]),
                "The desk's defaults for every trader:",
                *_lines(doc["desk"]),
                "In effect (their own where set, else the desk's):",
                *_lines(doc["effective"]),
            ]
        )
    if "account" in doc:
        return "\n".join([f"Account {doc['account']}'s limits:", *_lines(doc["limits"])])
    sections = [("The desk's defaults for every trader:", doc["desk"])]
    sections += [(f"Trader {user}:", own) for user, own in doc["users"].items()]
    sections += [(f"Account {name}:", own) for name, own in doc["accounts"].items()]
    shown = [line for title, own in sections if _values(own) for line in [title, *_lines(own)]]
    return "\n".join(shown) if shown else "No limits are set."


def render_change(doc: dict[str, Any]) -> str:
    where = _scope_name(doc)
    if not doc["changes"]:
        nothing = "already so" if doc["command"] == "set" else "none of them was set"
        return f"Limits of {where}: nothing changed ({nothing})"
    lines = [f"Limits of {where} changed by {doc['by']}:"]
    for change in doc["changes"]:
        name = change["limit"]
        old, new = _shown(name, change["old"]), _shown(name, change["new"])
        lines.append(f"  {_label(name)}: {old} -> {new}")
    return "\n".join(lines)


def _scope_name(doc: dict[str, Any]) -> str:
    if doc["scope"] == "user":
        return f"trader {doc['user_id']}"
    if doc["scope"] == "account":
        return f"account {doc['account']}"
    return "the desk (every trader's default)"


def _document(limits: RiskLimits) -> dict[str, Any]:
    found: dict[str, Any] = msgspec.to_builtins(limits)  # omit_defaults: only what is set
    return found


def _values(limits: RiskLimits | dict[str, Any]) -> dict[str, Any]:
    found = limits if isinstance(limits, dict) else _document(limits)
    return {name: found[name] for name in LIMIT_NAMES if name in found}


def _lines(doc: dict[str, Any]) -> list[str]:
    values = _values(doc)
    if not values:
        return ["  (none)"]
    width = max(len(_label(name)) for name in values)
    lines = [f"  {_label(name):<{width}}  {_shown(name, value)}" for name, value in values.items()]
    if doc.get("updated_by"):
        lines.append(f"  (set by {doc['updated_by']} at {doc.get('updated_at', '?')})")
    return lines


def _label(name: str) -> str:
    return name.removesuffix("_s").removesuffix("_pct").replace("_", " ")


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "(not set)"
    unit = RULES[name].unit
    amount = Decimal(str(value))
    if unit == "dollars":
        return f"${amount:,}"
    if unit == "percent":
        return f"{amount}%"
    if unit == "shares":
        return f"{amount:,} shares"
    if unit == "seconds":
        return f"{amount} s"
    return f"{amount:,}"


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value
