"""`tradeflow users add|remove|list`: who may trade, view, operate and manage roles (admins only)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workers.console.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, print_doc
from workers.settings import Settings


def users(args: argparse.Namespace, settings: Settings) -> int:
    from workers.access.journal import Journal
    from workers.access.roles import LastAdmin
    from workers.console.access import users
    from workers.console.access.authorize import USER_ID, AccessRefused, run_as
    from workers.store.port import TradeStore

    command = f"users {args.users_command}"
    if args.users_command != "list" and not USER_ID.match(args.user_id):
        print(f"tradeflow {command}: {args.user_id!r} is not a Slack user id", file=sys.stderr)
        return EXIT_USAGE
    accounts = getattr(args, "accounts", None)
    unknown = [a for a in accounts or () if a not in settings.account_names]
    if unknown:
        known = ", ".join(settings.account_names)
        print(
            f"tradeflow {command}: no Alpaca account named {unknown[0]!r} (known: {known})", file=sys.stderr
        )
        return EXIT_USAGE
    if args.users_command == "add" and not args.roles and accounts is None:
        print(f"tradeflow {command}: give --role or --account (or both)", file=sys.stderr)
        return EXIT_USAGE

    async def work(store: TradeStore, journal: Journal, admin: str) -> dict[str, Any]:
        if args.users_command == "add":
            return await users.add_user(store, journal, admin, args.user_id, args.roles, accounts)
        if args.users_command == "remove":
            return await users.remove_user(store, journal, admin, args.user_id, args.roles)
        return await users.users_document(store)

    try:
        doc = run_as(settings, args.operator, "admin", command, work)
    except AccessRefused as exc:
        print(f"tradeflow {command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except LastAdmin as exc:
        print(f"tradeflow {command}: {exc}; nothing was removed", file=sys.stderr)
        return EXIT_FAILED
    print_doc(doc, args.json, users.render_users if args.users_command == "list" else users.render_change)
    return EXIT_OK
