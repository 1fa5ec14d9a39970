"""`tradeflow`: the console script that starts every process and runs the operator commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from workers.cli_args import build_parser
from workers.settings import Settings, SettingsError, load_settings
from workers.store.port import TradeStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"tradeflow: {exc}", file=sys.stderr)
        return EXIT_USAGE
    command: Callable[[argparse.Namespace, Settings], int] = COMMANDS[args.command]
    return command(args, settings)


def _print(doc: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    print(json.dumps(doc, indent=2, default=str) if as_json else render(doc))


def _with_store(settings: Settings, work: Callable[[TradeStore], Awaitable[Any]]) -> Any:
    from workers.bootstrap import open_store

    async def run() -> Any:
        store = await open_store(settings)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ops.up import run_stack

    return run_stack(settings, processes=args.processes, threads=args.threads, as_json=args.json)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from workers.routing import STAGE_NAMES

    threads = args.threads or settings.tradeflow_worker_threads
    cmd = [
        sys.executable,
        "-m",
        "dramatiq",
        args.app,
        "--processes",
        str(args.processes),
        "--threads",
        str(threads),
    ]
    stages = args.queues or list(STAGE_NAMES)
    unknown = sorted(set(stages) - set(STAGE_NAMES))
    if unknown:
        print(
            f"tradeflow worker: unknown stage {unknown[0]} (stages: {', '.join(STAGE_NAMES)})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # dramatiq consumes the delay queues too, so retries come back.
    cmd += ["--queues", *(settings.queue(s) for s in stages), *(f"{settings.queue(s)}.DQ" for s in stages)]
    os.execv(sys.executable, cmd)
    return EXIT_OK  # not reached


def _ingress(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ops.ingress import run_ingress

    return run_ingress(settings)


def _slack(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ops.slack_trade import play_trade

    code, lines = asyncio.run(play_trade(settings, " ".join(args.words), args.user, args.timeout))
    print("\n".join(lines))
    return code


def _submit(args: argparse.Namespace, settings: Settings) -> int:
    from telemetry.tracing import configure_tracing, shutdown_tracing
    from workers.ops.submit import (
        InvalidTrade,
        build_command,
        outcome_document,
        render_outcome,
        wait_for_outcome,
    )
    from workers.publisher import Publisher

    try:
        command = build_command(
            user_id=args.user,
            side=args.side,
            quantity=args.quantity,
            symbol=args.symbol,
            order_type=args.order_type,
            limit_price=args.limit_price,
            stop_price=args.stop_price,
            time_in_force=args.time_in_force,
            channel_id=args.channel,
            trade_id=args.trade_id,
        )
    except InvalidTrade as exc:
        print(f"tradeflow submit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_tracing("tradeflow-cli")
    publisher = Publisher(settings)
    try:
        publisher.submit(command)
    finally:
        publisher.close()
        shutdown_tracing()
    trade_id = command.trade.trade_id
    if not args.wait:
        _print(
            {"trade_id": str(trade_id), "status": "submitted", "trace_id": trade_id.hex},
            args.json,
            lambda d: f"Submitted trade {d['trade_id']} (trace {d['trace_id']})",
        )
        return EXIT_OK

    async def wait(store: TradeStore) -> dict[str, Any]:
        from workers.handlers.audit import NOTIFIED_KEY

        record = await wait_for_outcome(store, trade_id, args.timeout)
        notified = await store.get_audit(trade_id, NOTIFIED_KEY) is not None
        return outcome_document(record, trade_id, notified=notified)

    doc = _with_store(settings, wait)
    _print(doc, args.json, render_outcome)
    return EXIT_OK if doc.get("status") == "executed" else EXIT_FAILED


def _dlq(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ops import dlq

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
            doc = dlq.replay_dead_letters(settings, args.queue, message_id, operator=args.operator)
            render = dlq.render_replay
        else:
            doc, render = dlq.purge_dead_letters(settings, args.queue, confirm=ask), dlq.render_purge
    except dlq.UnknownQueue as exc:
        print(f"tradeflow dlq: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except dlq.DlqError as exc:
        print(f"tradeflow dlq: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _print(doc, args.json, render)
    return EXIT_FAILED if doc.get("found") is False else EXIT_OK


def _health(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ops.health import render_health, run_health

    healthy, checks = run_health(settings)
    _print({"healthy": healthy, "checks": checks} if args.json else checks, args.json, render_health)
    return EXIT_OK if healthy else EXIT_FAILED


def _trade(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ops.inspect import render_trade, trade_document

    doc = _with_store(settings, lambda store: trade_document(store, args.trade_id))
    if doc is None:
        print(f"tradeflow: no trade {args.trade_id}", file=sys.stderr)
        return EXIT_FAILED
    _print(doc, args.json, render_trade)
    return EXIT_OK


def _metrics(args: argparse.Namespace, settings: Settings) -> int:
    import msgspec

    from workers.ops.metrics import execution_metrics, parse_since, render_metrics

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(f"tradeflow metrics: {exc}", file=sys.stderr)
        return EXIT_USAGE
    doc = _with_store(settings, lambda store: execution_metrics(store, since))
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(doc)).decode())
    else:
        print(render_metrics(doc))
    return EXIT_OK


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ops.doctor import run_doctor

    ok, lines = asyncio.run(run_doctor(settings))
    print("\n".join(lines))
    return EXIT_OK if ok else EXIT_FAILED


def _trace(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from workers.ops.trace import render_trace, trace_document

    spans = Path(args.spans) if args.spans else settings.data_dir / "spans.jsonl"
    doc = trace_document(spans, args.trade_id)
    _print(doc, args.json, render_trace)
    return EXIT_OK if doc["spans"] else EXIT_FAILED


def _positions(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ops.inspect import positions_document, render_positions

    _print(
        _with_store(settings, lambda store: positions_document(store, args.user_id)),
        args.json,
        render_positions,
    )
    return EXIT_OK


def _kill_switch(engaged: bool) -> Callable[[argparse.Namespace, Settings], int]:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        from messages.records import KillSwitch

        switch = KillSwitch(
            engaged=engaged, reason=args.reason, changed_by=args.operator, changed_at=datetime.now(UTC)
        )

        async def work(store: TradeStore) -> None:
            await store.set_kill_switch(switch)

        _with_store(settings, work)
        state = "halted" if engaged else "resumed"
        _print(
            {"trading": state, "reason": args.reason, "by": args.operator},
            args.json,
            lambda d: f"Trading {d['trading']} by {d['by']}" + (f": {d['reason']}" if d["reason"] else ""),
        )
        return EXIT_OK

    return run


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "up": _up,
    "worker": _worker,
    "ingress": _ingress,
    "slack": _slack,
    "submit": _submit,
    "trade": _trade,
    "health": _health,
    "dlq": _dlq,
    "positions": _positions,
    "trace": _trace,
    "doctor": _doctor,
    "metrics": _metrics,
    "halt": _kill_switch(True),
    "resume": _kill_switch(False),
}

if __name__ == "__main__":
    raise SystemExit(main())
