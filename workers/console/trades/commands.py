"""The `tradeflow` commands about trades: submit, trade show, positions, reconcile, report, halt, resume."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from workers.console.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, print_doc, with_store
from workers.settings import Settings
from workers.store.port import TradeStore


def submit(args: argparse.Namespace, settings: Settings) -> int:
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
            trail=args.trail,
            extended_hours=args.extended_hours,
            confirmed=args.confirm,
            order_class=args.order_class,
            exits={
                "take_profit_price": args.take_profit,
                "stop_loss_price": args.stop_loss,
                "stop_loss_limit_price": args.stop_loss_limit,
            },
            time_in_force=args.time_in_force,
            account=args.account,
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

        record = await wait_for_outcome(store, trade_id, args.timeout, working_will_do=True)
        notified = await store.get_audit(trade_id, NOTIFIED_KEY) is not None
        return outcome_document(record, trade_id, notified=notified)

    doc = with_store(settings, wait)
    print_doc(doc, args.json, render_outcome)
    return EXIT_OK if doc.get("status") in ("executed", "working", "awaiting_approval") else EXIT_FAILED


def trade(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.trades.inspect import render_trade, trade_document

    if args.trade_command in ("cancel", "modify"):
        from workers.console.trades import order_runners

        return (
            order_runners.cancel(args, settings)
            if args.trade_command == "cancel"
            else order_runners.modify(args, settings)
        )

    doc = with_store(settings, lambda store: trade_document(store, args.trade_id))
    if doc is None:
        print(f"tradeflow: no trade {args.trade_id}", file=sys.stderr)
        return EXIT_FAILED
    print_doc(doc, args.json, render_trade)
    return EXIT_OK


def positions(args: argparse.Namespace, settings: Settings) -> int:
    """`positions USER_ID`: a trader's positions; `positions reconcile`: every trader's against Alpaca's."""
    from workers.console.trades.inspect import positions_document, render_positions

    if args.user_id == "reconcile":
        return _reconcile_positions(args, settings)
    if args.user_id == "close":
        from workers.console.trades.order_runners import close_positions

        return close_positions(args, settings)
    if args.words:
        print(
            "tradeflow positions: USER_ID takes no more words (did you mean `positions close`?)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print_doc(
        with_store(settings, lambda store: positions_document(store, args.user_id)),
        args.json,
        render_positions,
    )
    return EXIT_OK


def account(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 with the account read (or Alpaca off: no account); 4 when Alpaca cannot be asked."""
    import asyncio

    from workers.console.common import EXIT_UNAVAILABLE
    from workers.console.trades.account import account_document, render_account

    if args.account is not None and args.account not in settings.account_names:
        known = ", ".join(settings.account_names)
        print(
            f"tradeflow account: no Alpaca account named {args.account!r} (known: {known})", file=sys.stderr
        )
        return EXIT_USAGE
    doc = asyncio.run(account_document(settings, args.account))
    print_doc(doc, args.json, render_account)
    return EXIT_OK if doc["read"] or not settings.alpaca_paper_enabled else EXIT_UNAVAILABLE


def orders(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.trades.orders import orders_document, render_orders

    if args.recent < 1:
        print("tradeflow orders: --recent must be 1 or more", file=sys.stderr)
        return EXIT_USAGE
    doc = with_store(settings, lambda store: orders_document(store, args.user_id, args.recent))
    print_doc(doc, args.json, render_orders)
    return EXIT_OK


def _reconcile_positions(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0: no drift (or Alpaca off: nothing to compare); 1: a symbol drifts; 4: Alpaca not asked."""
    import asyncio

    from workers.console.common import EXIT_UNAVAILABLE
    from workers.console.trades.positions_reconcile import (
        NOTHING_TO_COMPARE,
        reconcile_positions,
        render_positions_reconcile,
    )

    doc = asyncio.run(reconcile_positions(settings))
    print_doc(doc, args.json, render_positions_reconcile)
    if not doc["compared"]:
        return EXIT_OK if doc["why"] == NOTHING_TO_COMPARE else EXIT_UNAVAILABLE
    return EXIT_FAILED if doc["drift"] else EXIT_OK


def reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from workers.console.access.authorize import AccessRefused, operate
    from workers.console.access.journal_entries import reconcile_entry
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


def report(args: argparse.Namespace, settings: Settings) -> int:
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
