"""`tradeflow alerts outbox [--json] [--limit N]`: for a developer, the alerts the dev stack received: the
emails the SMTP capture server kept and the SMS moto's SNS took, newest first."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import msgspec

from workers.console.common import EXIT_OK, EXIT_USAGE, print_doc
from workers.console.stack.alert_servers import (
    SnsUnreadable,
    local_sns,
    mailbox_path,
    received_mail,
    sent_sms,
)
from workers.settings import Settings


def outbox(args: argparse.Namespace, settings: Settings) -> int:
    if args.limit < 1:
        print("tradeflow alerts outbox: --limit must be 1 or more", file=sys.stderr)
        return EXIT_USAGE
    print_doc(outbox_document(settings, args.limit), args.json, render)
    return EXIT_OK


def outbox_document(settings: Settings, limit: int) -> dict[str, Any]:
    """Both lists, newest first, at most `limit` of each; `sms_unlisted` says why no SMS list when none."""
    mail = list(reversed(received_mail(settings)))
    doc: dict[str, Any] = {
        "mailbox": str(mailbox_path(settings)),
        "email_count": len(mail),
        "email": msgspec.to_builtins(mail[:limit]),
        "sns": settings.aws_endpoint_url_sns,
        "sms_count": 0,
        "sms": [],
        "sms_unlisted": None,
    }
    endpoint = local_sns(settings)
    if endpoint is None:
        doc["sms_unlisted"] = "SMS go to AWS SNS, which lists none: see its delivery logs"
        return doc
    try:
        sms = list(reversed(sent_sms(endpoint)))  # moto keeps them oldest first, with no time
    except SnsUnreadable as exc:
        doc["sms_unlisted"] = f"{exc}: is `tradeflow up` running?"
        return doc
    doc.update(sms_count=len(sms), sms=msgspec.to_builtins(sms[:limit]))
    return doc


def render(doc: dict[str, Any]) -> str:
    lines = [f"Email: {_count(doc['email_count'], doc['email'])} (kept in {doc['mailbox']})"]
    for mail in doc["email"]:
        lines.append(f"  {mail['received_at']}  to {', '.join(mail['to'])}  from {mail['sender']}")
        lines.append(f"    {mail['subject']}")
        lines.extend(f"    | {line}" for line in mail["body"].splitlines())
    if doc["sms_unlisted"]:
        lines.append(f"SMS: not listed: {doc['sms_unlisted']}")
        return "\n".join(lines)
    lines.append(
        f"SMS: {_count(doc['sms_count'], doc['sms'])} (moto's SNS at {doc['sns']}; it keeps no time)"
    )
    for sms in doc["sms"]:
        lines.append(f"  to {sms['phone_number']}  ({sms['message_id']})")
        lines.extend(f"    | {line}" for line in sms["message"].splitlines())
    return "\n".join(lines)


def _count(total: int, shown: list[Any]) -> str:
    if total == 0:
        return "none"
    return f"{total}, newest first" if len(shown) == total else f"{total}, the newest {len(shown)} shown"
