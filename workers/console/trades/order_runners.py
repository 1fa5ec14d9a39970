"""The operator commands that change orders already sent: `trade cancel`, `trade modify`, `positions close`.

Each publishes through the chain as an operator (journaled by order_changes.py) and shares one way to run:
a publisher open for the command, the role checked, a refusal said in one line with its exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from workers.chain.publisher import Publisher
from workers.console.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, print_doc
from workers.settings import Settings

OPEN_STATUSES = ("awaiting_approval", "pending", "working", "unknown")
Work = Callable[[Any, Any, str, Publisher], Awaitable[dict[str, Any]]]


def _as_operator(
    args: argparse.Namespace, settings: Settings, command: str, work: Work, refused: type[Exception]
) -> dict[str, Any] | int:
    """`work(store, journal, actor, publisher)` run as an operator; an exit code when it was refused."""
    from workers.console.access.authorize import AccessRefused, run_as

    publisher = Publisher(settings)
    try:
        doc: dict[str, Any] = run_as(
            settings,
            args.operator,
            "operator",
            command,
            lambda store, journal, actor: work(store, journal, actor, publisher),
        )
    except AccessRefused as exc:
        print(f"tradeflow {command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except refused as exc:  # names nothing it may change: said, nothing sent
        print(f"tradeflow {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        publisher.close()
    return doc


def cancel(args: argparse.Namespace, settings: Settings) -> int:
    """`trade cancel TRADE_ID | SYMBOL | all | everyone [--user U]`: exit 0 once sent (with --wait: once every
    order ended canceled or otherwise), 1 when --wait ran out first, 2 when it names nothing cancelable."""
    from workers.console.trades.order_changes import cancel_orders, render_cancel
    from workers.handlers.cancel_requests import BadCancel

    doc = _as_operator(
        args,
        settings,
        "trade cancel",
        lambda store, journal, actor, publisher: cancel_orders(
            store, journal, actor, publisher.send, target=args.target, owner=args.user, wait_s=args.wait
        ),
        BadCancel,
    )
    if isinstance(doc, int):
        return doc
    print_doc(doc, args.json, render_cancel)
    still_open = [o for o in doc["orders"] if o["status"] in OPEN_STATUSES]
    return EXIT_FAILED if args.wait and still_open else EXIT_OK


def modify(args: argparse.Namespace, settings: Settings) -> int:
    """`trade modify TRADE_ID [--quantity Q] [--limit-price P] [--stop-price S] [--tif T] [--wait S]`: exit 0
    once sent (with --wait: once the replacement rests or executed), 1 when it was refused or --wait ran out,
    2 when the trade cannot be modified."""
    from workers.console.trades.order_changes import BadModify, modify_order, render_modify

    terms = {
        "quantity": args.quantity,
        "limit_price": args.limit_price,
        "stop_price": args.stop_price,
        "time_in_force": args.time_in_force,
    }
    doc = _as_operator(
        args,
        settings,
        "trade modify",
        lambda store, journal, actor, publisher: modify_order(
            store, journal, actor, publisher.send, trade_id=args.trade_id, terms=terms, wait_s=args.wait
        ),
        BadModify,
    )
    if isinstance(doc, int):
        return doc
    print_doc(doc, args.json, render_modify)
    if not args.wait:
        return EXIT_OK
    return EXIT_OK if doc["status"] in ("working", "executed") else EXIT_FAILED


def close_positions(args: argparse.Namespace, settings: Settings) -> int:
    """`positions close USER_ID SYMBOL|all`: a market order per position, down the chain; exit 2 when the
    trader holds nothing to close."""
    from workers.console.trades.order_changes import close_positions as close
    from workers.console.trades.order_changes import render_close
    from workers.handlers.position_closes import BadClose

    if len(args.words) != 2:
        print("tradeflow positions close: give USER_ID and SYMBOL (or all)", file=sys.stderr)
        return EXIT_USAGE
    user_id, target = args.words
    doc = _as_operator(
        args,
        settings,
        "positions close",
        lambda store, journal, actor, publisher: close(
            store, journal, actor, publisher.submit, user_id=user_id, target=target
        ),
        BadClose,
    )
    if isinstance(doc, int):
        return doc
    print_doc(doc, args.json, render_close)
    return EXIT_OK
