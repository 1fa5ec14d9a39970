"""Reconciliation: settle open trades with the stock broker when a worker starts, when an order is done,
and periodically (the sweeper's chain, seeded here at boot; workers/handlers/sweeper.py sweeps).

It only publishes ReconcileTrade messages; the execution stage does the settling, by looking the order up
by client order id, so a reconciliation can never place an order (DESIGN §4, invariant 4).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import dramatiq

from messages.events import AnyMessage, ReconcileTrade, SweepOpenTrades
from workers.settings import Settings
from workers.store.port import TradeStore

logger = logging.getLogger("tradeflow.reconcile")

SETTLE_STATUSES = ("working", "unknown")

Publish = Callable[[AnyMessage], None]
RunOnLoop = Callable[[Any], Any]


def reconcile_open_trades(store: TradeStore, run: RunOnLoop, publish: Publish) -> int:
    """Queue a ReconcileTrade for every trade whose order rests or is unconfirmed; returns how many."""
    records = run(store.list_open_trades(SETTLE_STATUSES))
    for record in records:
        publish(ReconcileTrade(trade=record.request(), reason=f"worker start: trade was {record.status}"))
    if records:
        logger.info("Reconciling %d open trade(s) with the stock broker", len(records))
    return len(records)


def on_order_done(store: TradeStore, run: RunOnLoop, publish: Publish) -> Callable[[str], None]:
    """A stream listener: when an open trade's order is done, settle the trade now, not at its recheck."""

    def settle(client_order_id: str) -> None:
        try:
            trade_id = uuid.UUID(client_order_id)
        except ValueError:
            return  # not one of ours: tradeflow's client order ids are trade ids
        record = run(store.get_trade(trade_id))
        if record is not None and record.status in SETTLE_STATUSES:
            publish(ReconcileTrade(trade=record.request(), reason="stream: order done"))

    return settle


def seed_sweep(settings: Settings, publish: Publish) -> bool:
    """Start a sweep chain from this worker process, unless sweeping is off; the lease ends duplicates."""
    if settings.tradeflow_sweep_interval_s <= 0:
        return False
    publish(SweepOpenTrades(reason="worker boot", seeded=True))
    return True


def consumes(worker: dramatiq.Worker, queue: str) -> bool:
    """Whether this worker consumes `queue` (no `--queues` given: it consumes every queue)."""
    whitelist = getattr(worker, "consumer_whitelist", None)
    return whitelist is None or queue in whitelist
