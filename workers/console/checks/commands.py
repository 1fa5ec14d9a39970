"""The `tradeflow` commands that check the stack: health, worker-alive, metrics, doctor."""

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


def worker_alive(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from workers.chain.liveness.files import heartbeat_dir
    from workers.console.checks.alive import worker_alive as verdict

    max_age_s = args.max_age if args.max_age is not None else 4 * settings.tradeflow_heartbeat_s
    alive, why = verdict(heartbeat_dir(settings.data_dir), max_age_s, time.time())
    print(why)
    return EXIT_OK if alive else EXIT_FAILED


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
