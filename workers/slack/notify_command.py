"""`/trade notify …`: a trader's own alerts outside Slack (email, SMS), shown and changed from Slack.

    /trade notify                                    what reaches them now
    /trade notify email me@example.com | email off
    /trade notify sms +15551234567 | sms off
    /trade notify events large_trade,halt,approval_waiting | events all | events off
    /trade notify above 25000 | above off            large trades below it are not sent
    /trade notify off                                no alert outside Slack at all

Parsing and the answer are pure; `apply_notify` reads the preferences, writes the trader's change with its
journal entry ("session" stream: the trader acting from Slack) at the version read, again on a conflict.
"""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec

from messages.alerts import AlertChoice, AlertKind, AlertPreferences
from workers.access.alert_choices import (
    TRADER_KINDS,
    BadAlertChoice,
    checked_email,
    checked_kinds,
    checked_min_notional,
    checked_phone,
    choice_changes,
    same_choice,
    with_choice,
)
from workers.access.desk_controls import update_alert_preferences
from workers.access.journal import Journal
from workers.store.port import StoreUnavailable, TradeStore

Action = Literal["show", "email", "sms", "events", "above", "off"]
TIMEOUT_S = 2.0  # inside Slack's 3 seconds
USAGE = (
    "`/trade notify` shows your alerts outside Slack; change them with "
    "`/trade notify email you@example.com`, `/trade notify sms +15551234567`, "
    f"`/trade notify events {','.join(TRADER_KINDS)}`, `/trade notify above 25000`, "
    "or `/trade notify off` (`email off`, `sms off`, `above off` drop one)."
)
UNAVAILABLE = "I can't reach the trading system right now: try again in a moment."
# A write cut short may have been made all the same: say so, never "nothing changed".
UNCONFIRMED = (
    "I couldn't confirm your change: the trading system is slow or unreachable. "
    "Check with `/trade notify` in a moment."
)
_WORDS = {"email": "email", "mail": "email", "sms": "sms", "phone": "sms", "text": "sms"}
_WORDS |= {"events": "events", "event": "events", "above": "above", "min": "above"}
_KIND_LABELS: dict[str, str] = {
    "large_trade": "large trades",
    "approval_waiting": "trades waiting for approval",
    "halt": "trading halts",
    "dead_letters": "dead letters",
    "drift": "position drift",
}
# Slack sends an address it linked as <mailto:me@x.com|me@x.com>, a number as <tel:+1555…|+1 555 …>.
_SLACK_LINK = re.compile(r"<(?:mailto:|tel:)?([^|>]*)(?:\|[^>]*)?>")


class BadNotify(ValueError):
    """`/trade notify` text that asks nothing we do; the message says what would."""


@dataclass(frozen=True)
class NotifyRequest:
    """What the text asks: `show`, or one change to the trader's choice (`value` None: drop that part)."""

    action: Action
    value: str | Decimal | tuple[AlertKind, ...] | None = None


def parse_notify(text: str) -> NotifyRequest:
    """The request in the text after `/trade` (a leading `notify` is dropped); BadNotify when it is none."""
    words = _unslack(text).split()
    if words and words[0].lower() == "notify":
        words = words[1:]
    if not words or (len(words) == 1 and words[0].lower() in ("show", "status")):
        return NotifyRequest("show")
    first, rest = words[0].lower(), " ".join(words[1:])
    if first == "off" and not rest:
        return NotifyRequest("off")
    action = _WORDS.get(first)
    if action is None or not rest:
        raise BadNotify(USAGE if first in ("help", "?") else f"I didn't understand that. {USAGE}")
    off = rest.lower() in ("off", "none", "stop")
    try:
        if action == "email":
            return NotifyRequest("email", None if off else checked_email(rest))
        if action == "sms":
            return NotifyRequest("sms", None if off else checked_phone(rest))
        if action == "events":
            return NotifyRequest("events", () if off else checked_kinds(rest, TRADER_KINDS))
        return NotifyRequest("above", None if off else checked_min_notional(rest))
    except BadAlertChoice as exc:
        raise BadNotify(f"{_sentence(str(exc))} Nothing was changed.") from None


def changed_choice(
    current: AlertChoice | None, request: NotifyRequest, *, by: str, at: datetime
) -> AlertChoice | None:
    """The trader's choice after `request` (not `show`); None when nothing is left chosen."""
    if request.action == "off":
        return None
    field = {"email": "email", "sms": "phone", "events": "kinds", "above": "min_notional"}[request.action]
    updated = msgspec.structs.replace(current or AlertChoice(), **{field: request.value})
    if not (updated.kinds or updated.email or updated.phone or updated.min_notional):
        return None
    return msgspec.structs.replace(updated, updated_by=by, updated_at=at)


def render_choice(choice: AlertChoice | None) -> str:
    """The trader's alerts outside Slack, and what is missing for any to reach them."""
    if choice is None or not (choice.kinds or choice.channels):
        return (
            "You get no alerts outside Slack. To get some: `/trade notify email you@example.com` (or "
            f"`sms +15551234567`), then `/trade notify events {','.join(TRADER_KINDS)}`."
        )
    lines = ["*Your alerts outside Slack*"]
    events = [_KIND_LABELS.get(kind, kind) for kind in choice.kinds]
    if "large_trade" in choice.kinds and choice.min_notional is not None:
        events[choice.kinds.index("large_trade")] += f" (above ${choice.min_notional:,})"
    lines.append(f"• Events: {', '.join(events) if events else 'none yet'}")
    if choice.email:
        lines.append(f"• Email: {choice.email}")
    if choice.phone:
        lines.append(f"• SMS: {choice.phone}")
    if not choice.kinds:
        lines.append(f"_Choose what to hear of: `/trade notify events {','.join(TRADER_KINDS)}`_")
    if not choice.channels:
        lines.append("_Say where: `/trade notify email you@example.com` or `/trade notify sms +15551234567`_")
    return "\n".join(lines)


async def apply_notify(
    store: TradeStore,
    journal: Journal,
    user_id: str,
    text: str,
    now: datetime,
    *,
    timeout_s: float = TIMEOUT_S,
) -> str:
    """Answer `/trade notify …` for `user_id`: their choice shown, or changed (journaled) and shown.

    Every outcome is an answer for the trader, never an exception: bad text says what would do; a store
    that does not answer in `timeout_s` says the change may or may not have been made.
    """
    try:
        request = parse_notify(text)
    except BadNotify as exc:
        return str(exc)
    if request.action == "show":
        try:
            preferences = await asyncio.wait_for(store.get_alert_preferences(), timeout_s)
        except (StoreUnavailable, TimeoutError):
            return UNAVAILABLE
        return render_choice(preferences.users.get(user_id))

    def change(current: AlertPreferences) -> tuple[AlertPreferences, tuple[list[Any], AlertChoice | None]]:
        old = current.users.get(user_id)
        new = changed_choice(old, request, by=user_id, at=now)
        if same_choice(old, new):
            return current, ([], old)
        return with_choice(current, user_id, new), (choice_changes(old, new), new)

    def entry(result: tuple[list[Any], AlertChoice | None]) -> Any:
        event_type = "alert_preferences_set" if result[1] is not None else "alert_preferences_cleared"
        return journal.entry("session", event_type, user_id, scope="user", user_id=user_id, changes=result[0])

    writing = update_alert_preferences(store, change, entry)
    try:
        changes, choice = await asyncio.wait_for(writing, timeout_s)
    except (StoreUnavailable, TimeoutError):
        return UNCONFIRMED
    return ("Saved. " if changes else "Already so. ") + render_choice(choice)


def _unslack(text: str) -> str:
    return html.unescape(_SLACK_LINK.sub(r"\1", text or ""))


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."
