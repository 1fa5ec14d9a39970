"""`tradeflow alerts outbox`'s arguments."""

from __future__ import annotations

from typing import Any


def add_alerts_outbox_command(alerts_sub: Any) -> None:
    """`alerts outbox [--json] [--limit N]`: the emails and SMS the dev stack's alert servers received."""
    outbox = alerts_sub.add_parser(
        "outbox", help="the emails `up`'s SMTP capture server and the SMS moto's SNS received, newest first"
    )
    outbox.add_argument("--limit", type=int, default=20, metavar="N", help="at most N of each (default 20)")
    outbox.add_argument("--json", action="store_true", help="print both lists as one JSON object")
