"""`tradeflow`: the console script that starts every process and runs the operator commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from workers.console.access_commands import ACCESS_COMMANDS
from workers.console.args import build_parser
from workers.console.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command, print_doc, with_store
from workers.console.operator_commands import OPERATOR_COMMANDS
from workers.settings import Settings, SettingsError, load_settings
from workers.store.port import TradeStore


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"tradeflow: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command not in ("worker", "ingress"):  # each of those configures its own processes
        from telemetry.logs import configure_logging

        # An operator command's stdout is its answer: only its warnings, on stderr. `up` logs as a service.
        if args.command == "up":
            configure_logging(settings, "tradeflow-up")
        else:
            configure_logging(settings, "tradeflow-cli", at_least="WARNING")
    command: Callable[[argparse.Namespace, Settings], int] = COMMANDS[args.command]
    return command(args, settings)


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.stack.up import run_stack

    return run_stack(settings, processes=args.processes, threads=args.threads, as_json=args.json)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from workers.chain.routing import QUEUE_NAMES

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
        "--skip-logging",  # each worker process logs our way (build_worker); dramatiq's format would mix in
    ]
    stages = args.queues or list(QUEUE_NAMES)
    unknown = sorted(set(stages) - set(QUEUE_NAMES))
    if unknown:
        print(
            f"tradeflow worker: unknown stage {unknown[0]} (stages: {', '.join(QUEUE_NAMES)})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # dramatiq consumes the delay queues too, so retries come back.
    cmd += ["--queues", *(settings.queue(s) for s in stages), *(f"{settings.queue(s)}.DQ" for s in stages)]
    os.execv(sys.executable, cmd)
    return EXIT_OK  # not reached


def _ingress(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.stack.ingress import run_ingress

    return run_ingress(settings)


def _slack(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.stack.slack_trade import play_trade

    code, lines = asyncio.run(play_trade(settings, " ".join(args.words), args.user, args.timeout))
    print("\n".join(lines))
    return code


def _submit(args: argparse.Namespace, settings: Settings) -> int:
    from telemetry.redaction import secrets_of
    from telemetry.tracing import configure_tracing, shutdown_tracing
    from workers.chain.publisher import Publisher
    from workers.console.trades.submit import (
        InvalidTrade,
        build_command,
        outcome_document,
        render_outcome,
        wait_for_outcome,
    )

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
    configure_tracing("tradeflow-cli", secrets=secrets_of(settings))
    publisher = Publisher(settings)
    try:
        publisher.submit(command)
    finally:
        publisher.close()
        shutdown_tracing()
    trade_id = command.trade.trade_id
    if not args.wait:
        print_doc(
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

    doc = with_store(settings, wait)
    print_doc(doc, args.json, render_outcome)
    return EXIT_OK if doc.get("status") == "executed" else EXIT_FAILED


def _trade(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.trades.inspect import render_trade, trade_document

    doc = with_store(settings, lambda store: trade_document(store, args.trade_id))
    if doc is None:
        print(f"tradeflow: no trade {args.trade_id}", file=sys.stderr)
        return EXIT_FAILED
    print_doc(doc, args.json, render_trade)
    return EXIT_OK


def _positions(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.trades.inspect import positions_document, render_positions

    print_doc(
        with_store(settings, lambda store: positions_document(store, args.user_id)),
        args.json,
        render_positions,
    )
    return EXIT_OK


def _kill_switch(engaged: bool) -> Callable[[argparse.Namespace, Settings], int]:
    """halt or resume, by an operator; the switch and its journal entry are written together."""
    command = "halt" if engaged else "resume"

    def run(args: argparse.Namespace, settings: Settings) -> int:
        from messages.records import KillSwitch
        from workers.access.journal import Journal
        from workers.console.access.authorize import AccessRefused, run_as

        async def work(store: TradeStore, journal: Journal, actor: str) -> str:
            event = journal.entry(
                "ops", "trading_halted" if engaged else "trading_resumed", actor, reason=args.reason or None
            )
            switch = KillSwitch(engaged=engaged, reason=args.reason, changed_by=actor, changed_at=event.at)
            await store.set_kill_switch(switch, event)
            return actor

        try:
            actor = run_as(settings, args.operator, "operator", command, work)
        except AccessRefused as exc:
            print(f"tradeflow {command}: {exc}", file=sys.stderr)
            return exc.exit_code
        state = "halted" if engaged else "resumed"
        print_doc(
            {"trading": state, "reason": args.reason, "by": actor},
            args.json,
            lambda d: f"Trading {d['trading']} by {d['by']}" + (f": {d['reason']}" if d["reason"] else ""),
        )
        return EXIT_OK

    return run


COMMANDS: dict[str, Command] = {
    **OPERATOR_COMMANDS,
    **ACCESS_COMMANDS,
    "up": _up,
    "worker": _worker,
    "ingress": _ingress,
    "slack": _slack,
    "submit": _submit,
    "trade": _trade,
    "positions": _positions,
    "halt": _kill_switch(True),
    "resume": _kill_switch(False),
}

if __name__ == "__main__":
    raise SystemExit(main())
