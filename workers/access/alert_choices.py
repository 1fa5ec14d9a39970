"""What a recipient may choose for alerts outside Slack, checked where it is typed (the CLI, /trade notify):
the events by name, an email address and an E.164 phone number (the checks the channels apply, so what is
accepted here can be sent to), a notional floor for large trades.

A bad value is refused with a message naming it and what would do; nothing is changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from messages.alerts import ALERT_KINDS, AlertChoice, AlertKind, AlertPreferences
from messages.types import amount_problem
from workers.alerts.addresses import email_problem, phone_problem

# A trader hears of their own trades and of halts; dead letters and drift are the operators' business.
TRADER_KINDS: tuple[AlertKind, ...] = ("large_trade", "approval_waiting", "halt")
CHOICE_FIELDS = ("kinds", "email", "phone", "min_notional")
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")


class BadAlertChoice(ValueError):
    """A value that cannot be an alert choice; the message says why."""


def checked_email(text: str) -> str:
    """The address, if alerts can go to it (the channels' own check, workers/alerts/addresses.py)."""
    address = text.strip()
    problem = email_problem(address)
    if problem is not None:
        raise BadAlertChoice(problem)
    return address


def checked_phone(text: str) -> str:
    """The number in E.164 form (the channels' own check); spaces, dots, dashes and parentheses dropped."""
    number = _PHONE_PUNCTUATION.sub("", text.strip())
    problem = phone_problem(number)
    if problem is not None:
        raise BadAlertChoice(problem)
    return number


def checked_kinds(text: str, allowed: Sequence[AlertKind] = ALERT_KINDS) -> tuple[AlertKind, ...]:
    """The events named, separated by commas or spaces, in ALERT_KINDS' order; `all` for every one allowed."""
    names = [name.strip().lower().replace("-", "_") for name in re.split(r"[,\s]+", text) if name.strip()]
    if not names:
        raise BadAlertChoice(f"name at least one event: {', '.join(allowed)} (or all)")
    if "all" in names:
        return tuple(allowed)
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise BadAlertChoice(
            f"no event named {_shown(unknown[0])}: choose from {', '.join(allowed)} (or all)"
        )
    return tuple(kind for kind in allowed if kind in names)


def checked_min_notional(text: str) -> Decimal:
    """A positive dollar amount; a leading $ and thousands separators are allowed."""
    cleaned = text.strip().removeprefix("$").replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise BadAlertChoice(f"{_shown(text.strip())} is not a dollar amount (like 25000)") from None
    problem = amount_problem(amount)
    if problem is not None:
        raise BadAlertChoice(f"the notional floor {problem}, got {_shown(text.strip())}")
    return amount


def with_choice(
    preferences: AlertPreferences, user_id: str | None, choice: AlertChoice | None
) -> AlertPreferences:
    """The preferences with the desk's (`user_id` None) or the trader's choice replaced; None removes it."""
    if user_id is None:
        return msgspec.structs.replace(preferences, desk=choice or AlertChoice())
    users = {user: kept for user, kept in preferences.users.items() if user != user_id}
    if choice is not None:
        users[user_id] = choice
    return msgspec.structs.replace(preferences, users=users)


def choice_changes(old: AlertChoice | None, new: AlertChoice | None) -> list[dict[str, Any]]:
    """Each field that differs, with its old and new value (None: not set), for the journal."""
    before, after = old or AlertChoice(), new or AlertChoice()
    changes = []
    for name in CHOICE_FIELDS:
        was, now = getattr(before, name), getattr(after, name)
        if was != now:
            changes.append({"field": name, "old": _journaled(was), "new": _journaled(now)})
    return changes


def same_choice(old: AlertChoice | None, new: AlertChoice | None) -> bool:
    """Whether the two choose the same (who changed them last and when aside)."""
    return not choice_changes(old, new)


def _journaled(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value or None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "…")
