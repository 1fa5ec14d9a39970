"""The `tradeflow` commands that check the stack: health, metrics, doctor."""

from __future__ import annotations

import argparse
import asyncio
import sys

from workers.console.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, print_doc, with_store
from workers.settings import Settings


def health(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.checks.health import render_health, run_health

    healthy, checks = run_health(settings)
    print_doc({"healthy": healthy, "checks": checks} if args.json else checks, args.json, render_health)
    return EXIT_OK if healthy else EXIT_FAILED


def metrics(args: argparse.Namespace, settings: Settings) -> int:
    import msgspec

    from workers.console.checks.metrics import execution_metrics, parse_since, render_metrics

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(f"tradeflow metrics: {exc}", file=sys.stderr)
        return EXIT_USAGE
    doc = with_store(settings, lambda store: execution_metrics(store, since))
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(doc)).decode())
    else:
        print(render_metrics(doc))
    return EXIT_OK


def doctor(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.checks.doctor import run_doctor

    ok, report = asyncio.run(run_doctor(settings))
    print_doc(report.document(), args.json, lambda doc: "\n".join(report.lines))
    return EXIT_OK if ok else EXIT_FAILED
