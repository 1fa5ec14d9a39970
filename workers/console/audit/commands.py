"""`tradeflow audit activity|verify`: the activity journal and the trades' audit chains."""

from __future__ import annotations

import argparse
import sys

from workers.console.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, print_doc, with_store
from workers.settings import Settings


def activity(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.audit.activity import activity_document, render_activity, streams_of
    from workers.console.checks.metrics import parse_since

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(f"tradeflow audit activity: {exc}", file=sys.stderr)
        return EXIT_USAGE
    streams = streams_of(args.stream)
    doc = with_store(settings, lambda store: activity_document(store, streams, since))
    print_doc(doc, args.json, render_activity)
    return EXIT_OK


def verify(args: argparse.Namespace, settings: Settings) -> int:
    """`tradeflow audit verify (TRADE_ID | --all)`: exit 1 when a chain is broken or the trade is unknown."""
    from datetime import UTC, datetime, timedelta

    from workers.console.audit import verify
    from workers.console.checks.metrics import parse_since

    if bool(args.all) == bool(args.trade_id):
        print("tradeflow audit verify: give a TRADE_ID or --all", file=sys.stderr)
        return EXIT_USAGE
    if not args.all:
        verdict = with_store(settings, lambda store: verify.verify_trade(store, args.trade_id))
        doc = verify.trade_document(verdict)
        print_doc(doc, args.json, verify.render_trade)
        return EXIT_OK if doc["ok"] else EXIT_FAILED
    try:
        retention = timedelta(days=settings.tradeflow_audit_retention_days)
        since = parse_since(args.since) if args.since else datetime.now(UTC) - retention
    except ValueError as exc:
        print(f"tradeflow audit verify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    doc = with_store(settings, lambda store: verify.verify_all(store, since))
    print_doc(doc, args.json, verify.render_all)
    return EXIT_OK if doc["ok"] else EXIT_FAILED
