"""`tradeflow limits set|clear|show`: operators set and clear the desk's risk limits; anyone may read them.

Every argument is checked before the store is opened: a bad one exits 2 and nothing changes. A change is
written with its journal entry (who, the scope, each limit's old and new value) in one transaction, and
made again from a fresh read when another operator changed the limits first.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from messages.limits import DeskLimits
from workers.console.common import EXIT_OK, EXIT_USAGE, print_doc, with_store
from workers.console.limits.bounds import RULES, BadLimit, Value, limit_named, limit_value, option_of
from workers.console.limits.changes import LimitChange, Scope, clear_limits, set_limits
from workers.console.limits.render import change_document, limits_document, render_change, render_limits
from workers.settings import Settings
from workers.store.port import TradeStore


def limits(args: argparse.Namespace, settings: Settings) -> int:
    from workers.access.desk_controls import update_limits
    from workers.access.journal import Journal
    from workers.console.access.authorize import run_and_print

    command = f"limits {args.limits_command}"
    try:
        if args.limits_command == "show":
            _check_owner(args.user, args.account, settings)
        else:
            scope = scope_of(args, settings)
            values = typed_values(args, scope) if args.limits_command == "set" else {}
            names = None if args.limits_command == "set" else names_to_clear(args)
    except BadLimit as exc:
        print(f"tradeflow {command}: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_USAGE
    if args.limits_command == "show":
        doc = with_store(settings, lambda store: _show(store, args.user, args.account))
        print_doc(doc, args.json, render_limits)
        return EXIT_OK

    async def work(store: TradeStore, journal: Journal, actor: str) -> dict[str, Any]:
        at = journal.clock()

        def change(current: DeskLimits) -> tuple[DeskLimits, tuple[list[LimitChange], DeskLimits]]:
            if args.limits_command == "set":
                updated, changes = set_limits(current, scope, values, by=actor, at=at)
            else:
                updated, changes = clear_limits(current, scope, names, by=actor, at=at)
            return updated, (changes, updated)

        def entry(result: tuple[list[LimitChange], DeskLimits]) -> Any:
            event_type = "limits_set" if args.limits_command == "set" else "limits_cleared"
            return journal.entry("ops", event_type, actor, **scope.details(), changes=result[0])

        changes, updated = await update_limits(store, change, entry)
        version = updated.version + 1 if changes else updated.version
        return change_document(args.limits_command, scope, actor, changes, updated, version)

    return run_and_print(settings, args, "operator", command, work, render_change)


def scope_of(args: argparse.Namespace, settings: Settings) -> Scope:
    """The scope `--desk`, `--user` or `--account` names, checked; BadLimit otherwise."""
    _check_owner(args.user, args.account, settings)
    if args.user is not None:
        return Scope("user", args.user)
    if args.account is not None:
        return Scope("account", args.account)
    return Scope("desk")


def typed_values(args: argparse.Namespace, scope: Scope) -> dict[str, Value]:
    """Each limit given on the command line, checked against its bounds and the scope."""
    typed = {name: getattr(args, name) for name in RULES if getattr(args, name) is not None}
    if not typed:
        raise BadLimit(f"give at least one limit to set, e.g. {option_of('max_open_orders')} 5")
    return {name: limit_value(name, text, scope.kind) for name, text in typed.items()}


def names_to_clear(args: argparse.Namespace) -> list[str] | None:
    """The limits named to clear, or None for --all."""
    if args.all and args.names:
        raise BadLimit("give either --all or the limits to clear, not both")
    if args.all:
        return None
    if not args.names:
        raise BadLimit("name the limits to clear (e.g. max-open-orders), or give --all")
    return [limit_named(name) for name in args.names]


def _check_owner(user: str | None, account: str | None, settings: Settings) -> None:
    from workers.console.access.authorize import USER_ID

    if user is not None and not USER_ID.match(user):
        raise BadLimit(f"{user!r} is not a Slack user id")
    if account is not None and account not in settings.account_names:
        known = ", ".join(settings.account_names)
        raise BadLimit(f"no Alpaca account named {account!r} (known: {known})")


async def _show(store: TradeStore, user: str | None, account: str | None) -> Any:
    return limits_document(await store.get_limits(), user_id=user, account=account)
