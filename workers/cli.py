"""`tradeflow`: the console script that starts every process and runs the operator commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from workers.settings import Settings, SettingsError, load_settings
from workers.store.port import TradeStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradeflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser(
        "up", help="start DynamoDB Local, the trace sink and workers on loopback; Ctrl-C stops all"
    )
    up.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    up.add_argument("--threads", type=int, default=None, help="threads per worker process")
    up.add_argument("--json", action="store_true", help="print what started as one JSON object")

    worker = sub.add_parser("worker", help="run the five stage actors (dramatiq workers)")
    worker.add_argument("--processes", "-p", type=int, default=1)
    worker.add_argument("--threads", "-t", type=int, default=None)
    worker.add_argument("--queues", "-Q", nargs="*", default=None, help="stages to consume (default: all)")
    worker.add_argument("--app", default="workers.app:rabbitmq", help="dramatiq app (module:attribute)")

    sub.add_parser("ingress", help="serve the Slack ingress (POST /slack/events, /healthz, /readyz)")

    slack = sub.add_parser("slack", help="play Slack's side against the running stack (the Slack emulator)")
    slack_sub = slack.add_subparsers(dest="slack_command", required=True)
    slack_trade = slack_sub.add_parser(
        "trade", help="/trade TEXT, Execute Trade, and print what the trader saw"
    )
    slack_trade.add_argument("words", nargs="+", help="e.g. buy 10 AAPL")
    slack_trade.add_argument("--user", default="U123")
    slack_trade.add_argument("--timeout", type=float, default=60.0)

    submit = sub.add_parser("submit", help="submit a trade: SIDE QUANTITY SYMBOL")
    submit.add_argument("--user", required=True, help="the trader's Slack user id")
    submit.add_argument("--channel", default=None, help="the origin Slack channel id")
    submit.add_argument("side", help="buy or sell")
    submit.add_argument("quantity", help="shares, e.g. 10 or 0.5")
    submit.add_argument("symbol", help="ticker, e.g. AAPL")
    submit.add_argument(
        "--type", dest="order_type", default="market", help="market, limit, stop or stop_limit"
    )
    submit.add_argument("--limit-price", default=None)
    submit.add_argument("--stop-price", default=None)
    submit.add_argument("--tif", dest="time_in_force", default="day", help="day, gtc, ioc or fok")
    submit.add_argument(
        "--trade-id", type=uuid.UUID, default=None, help="reuse a trade id (idempotent resubmit)"
    )
    submit.add_argument("--wait", action="store_true", help="wait for the outcome; exit 1 unless executed")
    submit.add_argument("--timeout", type=float, default=60.0, help="seconds --wait waits (default 60)")
    submit.add_argument("--json", action="store_true")

    trade = sub.add_parser("trade", help="inspect a trade")
    trade_sub = trade.add_subparsers(dest="trade_command", required=True)
    show = trade_sub.add_parser("show", help="the trade and its audit trail")
    show.add_argument("trade_id", type=uuid.UUID)
    show.add_argument("--json", action="store_true")

    positions = sub.add_parser("positions", help="a trader's positions")
    positions.add_argument("user_id")
    positions.add_argument("--json", action="store_true")

    for name, text in (("halt", "engage the kill switch: refuse every new trade"), ("resume", "release it")):
        control = sub.add_parser(name, help=text)
        control.add_argument("--reason", default="")
        control.add_argument(
            "--as", dest="operator", default=os.environ.get("TRADEFLOW_OPERATOR", "operator")
        )
        control.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
    from workers.ops.submit import InvalidTrade, build_command, outcome_document, wait_for_outcome
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
    _print(doc, args.json, _render_outcome)
    return EXIT_OK if doc.get("status") == "executed" else EXIT_FAILED


def _render_outcome(doc: dict[str, Any]) -> str:
    status = doc.get("status", "unknown")
    line = f"Trade {doc['trade_id']}: {status.upper()}"
    if status == "executed":
        line += (
            f" via {doc['execution_method']} at ${doc['execution_price']}"
            f" ({doc['slippage_bps']} bps slippage, {doc['execution_time_ms']} ms)"
        )
    elif doc.get("error_message"):
        line += f": {doc['error_message']}"
    elif status in ("pending", "unknown"):
        line += " (no outcome before the timeout; the trade may still complete)"
    return f"{line}\ntrace id: {doc['trace_id']}"


def _trade(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ops.inspect import render_trade, trade_document

    doc = _with_store(settings, lambda store: trade_document(store, args.trade_id))
    if doc is None:
        print(f"tradeflow: no trade {args.trade_id}", file=sys.stderr)
        return EXIT_FAILED
    _print(doc, args.json, render_trade)
    return EXIT_OK


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
    "positions": _positions,
    "halt": _kill_switch(True),
    "resume": _kill_switch(False),
}

if __name__ == "__main__":
    raise SystemExit(main())
