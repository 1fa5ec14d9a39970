"""`tradeflow limits set|clear|show`'s arguments: a scope, and one option per limit (bounds.RULES)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from workers.console.limits.bounds import RULES, option_of


def add_limits_command(sub: Any, add_identity: Callable[[argparse.ArgumentParser, str], None]) -> None:
    """`limits set|clear|show`: operators set and clear limits; anyone may read them."""
    limits = sub.add_parser(
        "limits", help="the desk's risk limits, per desk, trader and account (operators change them)"
    )
    limits_sub = limits.add_subparsers(dest="limits_command", required=True)
    setting = limits_sub.add_parser(
        "set", help="set limits in one scope: --desk (every trader's default), --user or --account"
    )
    _add_scope(setting)
    for name, rule in RULES.items():
        per = "" if "user" in rule.scopes else " (per desk or account only)"
        setting.add_argument(
            option_of(name), dest=name, default=None, metavar=rule.unit.upper(), help=f"{rule.meaning}{per}"
        )
    clear = limits_sub.add_parser("clear", help="unset limits in one scope: name them, or --all")
    _add_scope(clear)
    clear.add_argument("names", nargs="*", metavar="LIMIT", help="a limit to clear, e.g. max-open-orders")
    clear.add_argument("--all", action="store_true", help="every limit set in the scope")
    show = limits_sub.add_parser(
        "show", help="the limits set in every scope, or one trader's (with the desk's defaults) or account's"
    )
    whose = show.add_mutually_exclusive_group()
    whose.add_argument("--user", default=None, metavar="USER_ID", help="a trader's own and effective limits")
    whose.add_argument("--account", default=None, metavar="NAME", help="an Alpaca account's limits")
    for command in (setting, clear, show):
        command.add_argument("--json", action="store_true", help="print the result as JSON")
    for command in (setting, clear):
        add_identity(command, "needs the operator role")


def _add_scope(command: argparse.ArgumentParser) -> None:
    scope = command.add_mutually_exclusive_group(required=True)
    scope.add_argument("--desk", action="store_true", help="the desk's defaults, for every trader")
    scope.add_argument("--user", default=None, metavar="USER_ID", help="one trader (their Slack user id)")
    scope.add_argument("--account", default=None, metavar="NAME", help="one Alpaca account's totals")
