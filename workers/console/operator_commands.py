"""The operators' commands of `tradeflow`: dead letters, health, traces, doctor, metrics, reconcile."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from workers.console.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command, print_doc, with_store
from workers.settings import Settings
from workers.store.port import TradeStore


def _dlq(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.access.authorize import AccessRefused, operate
    from workers.console.dlq import operations as dlq
    from workers.console.dlq.journal_entries import purge_entry, replay_entry

    def ask(count: int) -> bool:
        if args.yes:
            return True
        answer = input(f"Purge {count} dead letters from {args.queue}? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    try:
        if args.dlq_command == "list":
            doc, render = dlq.list_dead_letters(settings, args.queue), dlq.render_list
        elif args.dlq_command == "show":
            doc, render = dlq.show_dead_letter(settings, args.queue, args.message_id), dlq.render_show
        elif args.dlq_command == "replay":
            if bool(args.all) == bool(args.message_id):
                print("tradeflow dlq replay: give a MESSAGE_ID or --all", file=sys.stderr)
                return EXIT_USAGE
            message_id = None if args.all else args.message_id
            doc = operate(
                settings,
                args.operator,
                "dlq replay",
                lambda actor: dlq.replay_dead_letters(settings, args.queue, message_id, operator=actor),
                replay_entry,
            )
            render = dlq.render_replay
        else:
            doc = operate(
                settings,
                args.operator,
                "dlq purge",
                lambda actor: dlq.purge_dead_letters(settings, args.queue, confirm=ask),
                purge_entry,
            )
            render = dlq.render_purge
    except AccessRefused as exc:
        print(f"tradeflow dlq {args.dlq_command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except dlq.UnknownQueue as exc:
        print(f"tradeflow dlq: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except dlq.DlqError as exc:
        print(f"tradeflow dlq: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print_doc(doc, args.json, render)
    return EXIT_FAILED if doc.get("found") is False else EXIT_OK


def _health(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.checks.health import render_health, run_health

    healthy, checks = run_health(settings)
    print_doc({"healthy": healthy, "checks": checks} if args.json else checks, args.json, render_health)
    return EXIT_OK if healthy else EXIT_FAILED


def _reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from workers.console.access.authorize import AccessRefused, operate
    from workers.console.dlq.journal_entries import reconcile_entry
    from workers.console.trades.reconcile import reconcile_now, render_reconcile

    if args.older_than is not None and args.older_than < 0:
        print("tradeflow reconcile: --older-than must be 0 or more seconds", file=sys.stderr)
        return EXIT_USAGE
    seconds = settings.tradeflow_stuck_after_s if args.older_than is None else args.older_than
    older_than = None if args.all else timedelta(seconds=seconds)
    try:
        doc = operate(
            settings,
            args.operator,
            "reconcile",
            lambda actor: reconcile_now(settings, older_than),
            reconcile_entry,
        )
    except AccessRefused as exc:
        print(f"tradeflow reconcile: {exc}", file=sys.stderr)
        return exc.exit_code
    print_doc(doc, args.json, render_reconcile)
    return EXIT_OK


def _metrics(args: argparse.Namespace, settings: Settings) -> int:
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


def _report(args: argparse.Namespace, settings: Settings) -> int:
    import os
    from pathlib import Path

    from telemetry.redaction import secrets_of
    from workers.console.trades.report import export_report, parse_window

    try:
        since, until = parse_window(args.since, args.until)
    except ValueError as exc:
        print(f"tradeflow report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    output = None if args.output in (None, "-") else Path(args.output)

    async def export(store: TradeStore) -> dict[str, Any]:
        return await export_report(
            store,
            since=since,
            until=until,
            report_format=args.report_format,
            secrets=secrets_of(settings),
            output=output,
        )

    try:
        doc = with_store(settings, export)
    except BrokenPipeError:  # `tradeflow report … | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
    where = doc["output"] or "stdout"
    print(f"{doc['rows']} trades ({doc['since']} to {doc['until']}) written to {where}", file=sys.stderr)
    return EXIT_OK


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.checks.doctor import run_doctor

    ok, lines = asyncio.run(run_doctor(settings))
    print("\n".join(lines))
    return EXIT_OK if ok else EXIT_FAILED


def _trace(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from workers.console.traces import TraceBackendError, open_backend
    from workers.console.traces.tree import render_trace, trace_document

    backend = open_backend(
        args.backend or settings.tradeflow_traces_backend,
        url=args.url or settings.tradeflow_traces_query_url,
        spans_path=Path(args.spans) if args.spans else settings.data_dir / "spans.jsonl",
    )
    try:
        doc = trace_document(backend, args.trade_id)
    except TraceBackendError as exc:
        print(f"tradeflow trace: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print_doc(doc, args.json, render_trace)
    return EXIT_OK if doc["spans"] else EXIT_FAILED


def audit_verify(args: argparse.Namespace, settings: Settings) -> int:
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


OPERATOR_COMMANDS: dict[str, Command] = {
    "dlq": _dlq,
    "health": _health,
    "reconcile": _reconcile,
    "metrics": _metrics,
    "report": _report,
    "doctor": _doctor,
    "trace": _trace,
}
