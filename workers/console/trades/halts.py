"""`tradeflow halt|resume`: the kill switch, the desk's, an account's or one trader's, set by an operator,
journaled in the same write, alerted by email and SMS when engaged (the alerts service sends it once)."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workers.console.common import EXIT_USAGE
from workers.settings import Settings
from workers.store.port import TradeStore

if TYPE_CHECKING:
    from messages.records import HaltMode, KillSwitch
    from workers.chain.publisher import Publisher


def kill_switch(engaged: bool) -> Callable[[argparse.Namespace, Settings], int]:
    """halt or resume, by an operator; the switch and its journal entry are written together. `halt
    --cancel-working` then cancels every trader's working orders at Alpaca, through the chain."""
    command = "halt" if engaged else "resume"

    def run(args: argparse.Namespace, settings: Settings) -> int:
        from messages.records import KillSwitch
        from workers.access.journal import Journal
        from workers.chain.publisher import Publisher
        from workers.console.access.authorize import run_and_print
        from workers.console.trades.order_changes import cancel_orders

        cancel_working = engaged and args.cancel_working
        account, user_id = args.account, args.user
        if account is not None and user_id is not None:
            print(f"tradeflow {command}: name --account or --user, not both", file=sys.stderr)
            return EXIT_USAGE
        if account is not None and account not in settings.account_names:
            known = ", ".join(settings.account_names)
            print(
                f"tradeflow {command}: no Alpaca account named {account!r} (known: {known})", file=sys.stderr
            )
            return EXIT_USAGE
        if cancel_working and (account is not None or user_id is not None):
            print(
                f"tradeflow {command}: --cancel-working halts the whole desk: drop --account/--user",
                file=sys.stderr,
            )
            return EXIT_USAGE
        publisher = Publisher(settings) if cancel_working or engaged else None
        mode: HaltMode = "reducing" if engaged and args.reducing else "halted"

        async def work(store: TradeStore, journal: Journal, actor: str) -> dict[str, Any]:
            event = journal.entry(
                "ops",
                "trading_halted" if engaged else "trading_resumed",
                actor,
                reason=args.reason or None,
                account=account,
                user_id=user_id,
                mode=mode,
            )
            switch = KillSwitch(
                engaged=engaged,
                account=account,
                user_id=user_id,
                mode=mode,
                reason=args.reason,
                changed_by=actor,
                changed_at=event.at,
            )
            await store.set_kill_switch(switch, event)
            state = ("reducing" if mode == "reducing" else "halted") if engaged else "resumed"
            doc: dict[str, Any] = {
                "trading": state,
                "reason": args.reason,
                "by": actor,
                "account": account,
                "user_id": user_id,
            }
            if publisher is not None:
                doc["alerted"] = _alerted(publisher, switch, event.event_id)
            if publisher is not None and cancel_working:  # no new order leaves while these are canceled
                canceled = await cancel_orders(
                    store, journal, actor, publisher.send, target="everyone", owner=None, wait_s=None
                )
                doc["cancel_requested"] = canceled["orders"]
            return doc

        try:
            return run_and_print(settings, args, "operator", command, work, _render_switch)
        finally:
            if publisher is not None:
                publisher.close()

    return run


def _render_switch(doc: dict[str, Any]) -> str:
    where = f" in the {doc['account']} account" if doc.get("account") else ""
    where = f" for {doc['user_id']}" if doc.get("user_id") else where
    text = f"Trading{where} {doc['trading']} by {doc['by']}" + (f": {doc['reason']}" if doc["reason"] else "")
    if "cancel_requested" in doc:
        text += f"\nCancel requested for {len(doc['cancel_requested'])} working order(s)"
        text += "".join(f"\n  {o['trade_id']}  {o['user_id']}  {o['order']}" for o in doc["cancel_requested"])
    return text


def _alerted(publisher: Publisher, switch: KillSwitch, event_id: uuid.UUID) -> bool:
    """Send the halt's alert; a RabbitMQ that cannot take it leaves the halt in force all the same."""
    from messages.alerts import SendAlert, alert_id_of

    where = f" {switch.scope}" if switch.scope else ""
    state = "limited to reducing positions" if switch.mode == "reducing" else "halted"
    alert = SendAlert(
        alert_id=alert_id_of("halt", f"manual#{event_id}"),
        kind="halt",
        subject=f"tradeflow: trading{where} {state}",
        body=f"Trading{where} was {state} by {switch.changed_by}"
        + (f": {switch.reason}" if switch.reason else "")
        + ". `tradeflow resume` lifts it.",
        at=switch.changed_at or datetime.now(UTC),
        user_id=switch.user_id,
        account=switch.account,
    )
    try:
        publisher.send(alert)
    except Exception as exc:
        print(f"tradeflow halt: the halt holds, but its alert was not sent: {exc}", file=sys.stderr)
        return False
    return True


halt = kill_switch(True)
resume = kill_switch(False)
