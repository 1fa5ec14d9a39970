"""After the faults, what an operator would do: wait for every trade to settle (asking for a reconciliation
now and then), and read, explain and replay the dead letters."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections import Counter
from typing import Any

from bench.stack import LoopbackStack
from tests.faults.checks import is_settled, read_notified, read_trades
from tests.faults.load import Submitted
from workers.bootstrap import open_store
from workers.handlers.audit import WORKING_NOTIFIED_KEY
from workers.settings import load_settings
from workers.store.port import TradeStore

OPERATOR = "UFAULTOPS"


async def known_trades(stack: LoopbackStack, submitted: Submitted) -> set[uuid.UUID]:
    """The accepted trades, and any refused one that exists all the same (it must complete too)."""
    store = await open_store(load_settings(stack.settings_env()))
    try:
        refused = await read_trades(store, set(submitted.refused))
    finally:
        await store.close()
    return submitted.accepted | {t for t, record in refused.items() if record is not None}


def settle(stack: LoopbackStack, trade_ids: set[uuid.UUID], timeout_s: float, stall_s: float) -> int:
    """Wait until every trade is settled and told, or nothing moved for `stall_s`; returns how many are not.

    A reconciliation is asked for now and then, as an operator would.
    """
    return asyncio.run(_settle_on_one_store(stack, trade_ids, timeout_s, stall_s))


async def _settle_on_one_store(
    stack: LoopbackStack, trade_ids: set[uuid.UUID], timeout_s: float, stall_s: float
) -> int:
    store = await open_store(load_settings(stack.settings_env()))
    try:
        deadline = time.monotonic() + timeout_s
        last_reconcile = last_progress = time.monotonic()
        remaining = len(trade_ids) + 1
        while True:
            looked_at = time.monotonic()
            unsettled = len(await _unsettled(store, trade_ids))
            now = time.monotonic()
            if unsettled < remaining:
                remaining, last_progress = unsettled, now
            if not unsettled or now > deadline or now - last_progress > stall_s:
                return unsettled
            if now - last_reconcile > 20:
                await asyncio.to_thread(operator_cli, stack, "reconcile", "--json")
                last_reconcile = now
            # Look again soon, but never spend more than half the time looking (N = 1,000 reads take a while).
            await asyncio.sleep(max(0.5, now - looked_at))
    finally:
        await store.close()


async def _unsettled(store: TradeStore, trade_ids: set[uuid.UUID]) -> list[uuid.UUID]:
    """The trades not settled yet (is_settled), and the settled ones whose trader has not been told yet: of
    its end when it ended, that it works when it is open (the checks count either missing as untold)."""
    records = await read_trades(store, trade_ids)
    ended = {t for t, r in records.items() if r is not None and r.is_terminal}
    still_open = {t for t, r in records.items() if r is not None and r.is_open}
    told = await read_notified(store, ended) | await read_notified(store, still_open, WORKING_NOTIFIED_KEY)
    untold = (ended | still_open) - told
    return [t for t, record in records.items() if not is_settled(record) or t in untold]


def replay_dead_letters(stack: LoopbackStack) -> dict[str, Any]:
    """Every dead letter must say why it died; then each is replayed, as an operator would."""
    listed = json.loads(operator_cli(stack, "dlq", "list", "--json"))
    unexplained, replayed, reasons, trade_ids = [], 0, Counter[str](), set()
    for queue in listed["queues"]:
        for letter in queue["messages"]:
            reasons[f"{queue['stage']}: {(letter.get('reason') or '')[:100]}"] += 1
            trade_ids.add(str(letter.get("trade_id")))
            if not letter.get("reason"):
                unexplained.append(f"{queue['queue']} {letter['message_id']}")
        if queue["dead_letters"]:
            doc = json.loads(operator_cli(stack, "dlq", "replay", queue["stage"], "--all", "--json"))
            replayed += len(doc.get("replayed", []))
    return {
        "listed": listed["total"],
        "replayed": replayed,
        "unexplained": unexplained,
        "reasons": reasons,
        "trade_ids": trade_ids,
    }


def operator_cli(stack: LoopbackStack, *args: str) -> str:
    """`tradeflow ARGS` as the campaign's operator; its stdout, or RuntimeError naming how it failed."""
    try:
        done = stack.cli(*args, TRADEFLOW_OPERATOR=OPERATOR)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"tradeflow {' '.join(args)} took over 120 s; stderr: {exc.stderr!r}") from exc
    if done.returncode != 0:
        raise RuntimeError(f"tradeflow {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout
