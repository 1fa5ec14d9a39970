"""`tradeflow alerts desk set|show|clear`'s arguments: the events the desk's operators hear of, and where."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from messages.alerts import ALERT_KINDS


def add_alerts_desk_command(
    alerts_sub: Any, add_identity: Callable[[argparse.ArgumentParser, str], None]
) -> None:
    """`alerts desk set|show|clear`: operators choose the desk's alerts; anyone may read them."""
    desk = alerts_sub.add_parser("desk", help="which alerts reach the desk's operators, by email and SMS")
    desk_sub = desk.add_subparsers(dest="alerts_desk_command", required=True)
    setting = desk_sub.add_parser(
        "set", help="choose the desk's alerts: --events and an --email, a --phone or both (replaces)"
    )
    setting.add_argument(
        "--events",
        required=True,
        help=f"comma-separated, from {', '.join(ALERT_KINDS)}; or all",
    )
    setting.add_argument("--email", default=None, help="the address to email, e.g. ops@example.com")
    setting.add_argument("--phone", default=None, help="the number to text, in E.164: +15551234567")
    setting.add_argument(
        "--min-notional", default=None, metavar="DOLLARS", help="large trades below this are not sent"
    )
    show = desk_sub.add_parser("show", help="the desk's alerts and where they go")
    clear = desk_sub.add_parser("clear", help="send the desk's operators no alert outside Slack")
    for command in (setting, show, clear):
        command.add_argument("--json", action="store_true", help="print the result as JSON")
    for command in (setting, clear):
        add_identity(command, "needs the operator role")
