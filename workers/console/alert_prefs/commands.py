"""`tradeflow alerts desk set|show|clear`: operators choose which alerts reach the desk, and where.

`set` replaces the desk's choice with the one given, checked before the store is opened (a bad event name,
email address or phone number exits 2, nothing changed). A change is written with its journal entry (who,
each field's old and new value) in one transaction, again from a fresh read on a version conflict.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from typing import Any

import msgspec

from messages.alerts import AlertChoice, AlertPreferences
from workers.console.common import EXIT_OK, EXIT_USAGE, print_doc, with_store
from workers.settings import Settings
from workers.store.port import TradeStore


def desk(args: argparse.Namespace, settings: Settings) -> int:
    from workers.access.alert_choices import BadAlertChoice, choice_changes, same_choice, with_choice
    from workers.access.desk_controls import update_alert_preferences
    from workers.access.journal import Journal
    from workers.console.access.authorize import run_and_print

    command = f"alerts desk {args.alerts_desk_command}"
    if args.alerts_desk_command == "show":
        doc = with_store(settings, _show)
        print_doc(doc, args.json, render_desk)
        return EXIT_OK
    try:
        wanted = typed_choice(args) if args.alerts_desk_command == "set" else None
    except BadAlertChoice as exc:
        print(f"tradeflow {command}: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_USAGE

    async def work(store: TradeStore, journal: Journal, actor: str) -> dict[str, Any]:
        at = journal.clock()
        chosen = None if wanted is None else msgspec.structs.replace(wanted, updated_by=actor, updated_at=at)

        def change(current: AlertPreferences) -> tuple[AlertPreferences, tuple[list[Any], AlertPreferences]]:
            if same_choice(current.desk, chosen):
                return current, ([], current)
            updated = with_choice(current, None, chosen)
            return updated, (choice_changes(current.desk, chosen), updated)

        def entry(result: tuple[list[Any], AlertPreferences]) -> Any:
            event_type = "alert_preferences_set" if chosen else "alert_preferences_cleared"
            return journal.entry("ops", event_type, actor, scope="desk", changes=result[0])

        changes, updated = await update_alert_preferences(store, change, entry)
        version = updated.version + 1 if changes else updated.version
        return {
            "command": args.alerts_desk_command,
            "by": actor,
            "changes": [_json_change(c) for c in changes],
            **desk_document(updated.desk, version),
        }

    return run_and_print(settings, args, "operator", command, work, render_change)


def typed_choice(args: argparse.Namespace) -> AlertChoice:
    """The desk's choice as typed: events, and an email, a phone or both; BadAlertChoice otherwise."""
    from workers.access.alert_choices import (
        BadAlertChoice,
        checked_email,
        checked_kinds,
        checked_min_notional,
        checked_phone,
    )

    if args.email is None and args.phone is None:
        raise BadAlertChoice("give --email, --phone or both: where the desk's alerts go")
    return AlertChoice(
        kinds=checked_kinds(args.events),
        email=None if args.email is None else checked_email(args.email),
        phone=None if args.phone is None else checked_phone(args.phone),
        min_notional=None if args.min_notional is None else checked_min_notional(args.min_notional),
    )


def desk_document(choice: AlertChoice, version: int) -> dict[str, Any]:
    """The desk's choice, JSON-ready (Decimals as strings)."""
    return {"version": version, "desk": msgspec.to_builtins(choice)}


async def _show(store: TradeStore) -> dict[str, Any]:
    preferences = await store.get_alert_preferences()
    return desk_document(preferences.desk, preferences.version)


def render_desk(doc: dict[str, Any]) -> str:
    choice = doc["desk"]
    if not choice.get("kinds") and not choice.get("email") and not choice.get("phone"):
        return "The desk's operators get no alert outside Slack."
    lines = [f"The desk's operators hear of: {', '.join(choice.get('kinds', [])) or '(no event)'}"]
    if choice.get("email"):
        lines.append(f"  by email: {choice['email']}")
    if choice.get("phone"):
        lines.append(f"  by SMS:   {choice['phone']}")
    if choice.get("min_notional"):
        lines.append(f"  large trades from ${choice['min_notional']}")
    if choice.get("updated_by"):
        lines.append(f"  (set by {choice['updated_by']} at {choice.get('updated_at', '?')})")
    return "\n".join(lines)


def render_change(doc: dict[str, Any]) -> str:
    if not doc["changes"]:
        return "The desk's alerts: nothing changed (already so)"
    return f"The desk's alerts changed by {doc['by']}.\n{render_desk(doc)}"


def _json_change(change: dict[str, Any]) -> dict[str, Any]:
    return {name: str(value) if isinstance(value, Decimal) else value for name, value in change.items()}
