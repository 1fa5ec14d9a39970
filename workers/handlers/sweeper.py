"""The sweeper: find the trades stuck open past the deadline and send each a ReconcileTrade, on a lease.

One chain of SweepOpenTrades ticks runs however many worker processes consume the sweeper queue: a tick
sweeps only if it takes the store's lease, and only a tick that swept schedules the next one, an interval
later. A duplicate chain (every worker process seeds one at boot) finds the lease held and ends. A boot seed
that finds it held waits the lease out once, so a holder that crashed is replaced when its lease runs out.

A sweep reads every open trade, a page at a time (never just the oldest few hundred), and asks the stock
broker once, in pages, which orders are still open: a `working` trade whose order still rests costs nothing
more, and one whose order ended (the stream missed it, or is off) is settled at once, however young. Only
the trades it cannot tell that way (pending or unknown ones, stuck) are each looked up.

Each sweep also expires the trades awaiting approval past their time: a DecideApproval (expire) each, which
loses to an approver's click written first (handlers/approvals/). It never settles them: they have no order.

Each sweep also compares tradeflow's positions with the account's at Alpaca (one request): a drift seen in
two sweeps running is logged as a warning and counted in the `tradeflow.positions.drift` gauge (symbols).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from opentelemetry import metrics

from brokers.port import HELD_REASON, BrokerBusy, BrokerUnavailable
from messages.alerts import SendAlert, alert_id_of
from messages.events import DecideApproval, ReconcileTrade, SweepOpenTrades
from messages.records import TradeRecord
from messages.types import SETTLEABLE_STATUSES
from workers.handlers.approvals.decisions import EXPIRY_ACTOR
from workers.handlers.deps import Deps
from workers.handlers.position_drift import compare_accounts, drifting, lasting, shares_text
from workers.handlers.records import recorded_since
from workers.store.port import StoreUnavailable, TradeStore

logger = logging.getLogger("tradeflow.sweeper")

SWEEP_LEASE = "sweeper"
# The lease is 3/4 of the interval: the chain's own next tick (a whole interval after its claim) finds it
# expired, while a second chain would need two claims a lease apart within every interval to keep going.
LEASE_SHARE = 0.75
SWEEP_PAGE = 500  # open trades read per store request

Sweep = tuple[SweepOpenTrades | ReconcileTrade | DecideApproval | SendAlert, ...] | SweepOpenTrades | None
DRIFT_GAUGE = metrics.get_meter("tradeflow").create_gauge(
    "tradeflow.positions.drift",
    unit="{symbol}",
    description="Symbols whose shares at Alpaca differ from tradeflow's positions, two sweeps running",
)


@dataclass(frozen=True)
class StuckTrade:
    """An open trade, as re-read from the store, and how long ago it was recorded."""

    record: TradeRecord
    age: timedelta

    @property
    def reason(self) -> str:
        return f"{self.record.status} for {spoken(self.age)}"


async def find_stuck_trades(
    store: TradeStore,
    *,
    now: datetime,
    older_than: timedelta | None,
    open_orders: frozenset[str] | None = None,
    page_size: int = SWEEP_PAGE,
) -> list[StuckTrade]:
    """Open trades (pending, working, unknown: never one awaiting approval, which has no order to settle)
    recorded at least `older_than` ago (every one when None), read a page at a time, all of them.

    With the stock broker's `open_orders` (client order ids) known, a `working` trade whose order is among
    them is left alone (it rests: only its end needs settling), and one whose order is not is taken at
    any age (it ended unseen). The record keeps no time of its last change, so a trade's age counts from
    when it was recorded. The open-trades index may lag the table: each candidate is re-read, consistently,
    and kept only if it is still open and still worth settling.
    """
    stuck = []
    async for candidate in store.iter_open_trades(sorted(SETTLEABLE_STATUSES), page_size=page_size):
        if not _worth_a_look(candidate, now, older_than, open_orders):
            continue
        record = await store.get_trade(candidate.trade_id)
        if record is None or record.status not in SETTLEABLE_STATUSES:
            continue
        if not _worth_a_look(record, now, older_than, open_orders):
            continue
        if open_orders is not None and await _group_rests(store, record, open_orders):
            continue
        stuck.append(StuckTrade(record, now - recorded_since(record)))
    return stuck


async def _group_rests(store: TradeStore, record: TradeRecord, open_orders: frozenset[str]) -> bool:
    """A held exit (not among the open orders) is left alone while another exit of its group still rests:
    its stop has not fired, or that exit would have been canceled. Without a resting sibling, one look."""
    if record.order_status != HELD_REASON or record.parent_trade_id is None:
        return False
    parent = await store.get_trade(record.parent_trade_id)
    siblings = {leg.client_order_id for leg in parent.legs} if parent is not None else set()
    if parent is not None and parent.is_open:
        siblings.add(str(parent.trade_id))  # an OCO's take-profit is the parent itself
    return bool((siblings - {str(record.trade_id)}) & open_orders)


def _worth_a_look(
    record: TradeRecord, now: datetime, older_than: timedelta | None, open_orders: frozenset[str] | None
) -> bool:
    if record.status == "working" and open_orders is not None:
        return str(record.trade_id) not in open_orders  # ended while nothing told us; resting: nothing to do
    return older_than is None or now - recorded_since(record) >= older_than


async def find_expired_approvals(
    store: TradeStore, *, now: datetime, page_size: int = SWEEP_PAGE
) -> list[TradeRecord]:
    """Trades awaiting approval whose time ran out by `now`, each re-read consistently (the index may still
    list a trade decided a moment ago)."""
    expired = []
    async for candidate in store.iter_open_trades(["awaiting_approval"], page_size=page_size):
        if not _expired(candidate, now):
            continue
        record = await store.get_trade(candidate.trade_id)
        if record is not None and record.status == "awaiting_approval" and _expired(record, now):
            expired.append(record)
    return expired


def _expired(record: TradeRecord, now: datetime) -> bool:
    return record.approval is not None and now >= record.approval.expires_at


def expiry_message(record: TradeRecord, now: datetime) -> DecideApproval:
    return DecideApproval(
        trade=record.request(), decision="expire", decided_by=EXPIRY_ACTOR, decided_at=now, source="sweeper"
    )


def reconcile_message(stuck: StuckTrade, sender: str) -> ReconcileTrade:
    """One look at the trade's order: the sender sweeps again later, so no recheck chain is started."""
    return ReconcileTrade(trade=stuck.record.request(), reason=f"{sender}: {stuck.reason}", recheck=False)


async def sweep_open_trades(event: SweepOpenTrades, deps: Deps) -> Sweep:
    """Sweep if this tick takes the lease, then schedule the next tick; a tick that loses ends its chain."""
    interval = deps.reconcile.sweep_interval
    if interval <= timedelta(0):
        return None  # sweeping is off where this tick landed
    lease = interval * LEASE_SHARE
    claimed_at = deps.clock()
    try:
        claimed = await deps.store.claim_lease(SWEEP_LEASE, now_ms=_ms(claimed_at), lease_ms=_span_ms(lease))
    except StoreUnavailable as exc:
        # Whether the claim was written is unknown: come back once any lease it took has run out.
        logger.warning("Sweep lease unavailable (%s): trying again in %s", exc, spoken(lease))
        return SweepOpenTrades(reason="the store was unavailable", delay_ms=_span_ms(lease))
    if not claimed:
        if event.seeded:  # the holder may have crashed: wait its lease out once, then take over or end
            return SweepOpenTrades(reason="boot seed waiting out the lease", delay_ms=_span_ms(lease))
        return None
    try:
        open_orders = await deps.broker.open_orders()  # one request per 500 open orders; None: cannot tell
        stuck = await find_stuck_trades(
            deps.store, now=claimed_at, older_than=deps.reconcile.stuck_after, open_orders=open_orders
        )
        expired = await find_expired_approvals(deps.store, now=claimed_at)
    except StoreUnavailable as exc:
        logger.warning("Sweep skipped, the store is unavailable (%s): the next sweep tries again", exc)
        stuck, expired = [], []
    if stuck:
        logger.info("Sweep: %d stuck trade(s) sent to be settled with the stock broker", len(stuck))
    if expired:
        logger.info("Sweep: %d trade(s) awaiting approval past their time sent to expire", len(expired))
    drift, drift_alert = await check_positions(deps, event.drift)
    next_tick = SweepOpenTrades(
        reason="scheduled", delay_ms=max(0, _span_ms(interval - (deps.clock() - claimed_at))), drift=drift
    )
    expiries = (expiry_message(record, claimed_at) for record in expired)
    alerts = (drift_alert,) if drift_alert is not None else ()
    return (next_tick, *(reconcile_message(s, "sweeper") for s in stuck), *expiries, *alerts)


async def check_positions(deps: Deps, previous: tuple[str, ...]) -> tuple[tuple[str, ...], SendAlert | None]:
    """This sweep's drift marks (carried to the next tick); a drift the last sweep saw too is reported, and
    alerted (once per drift and day: the same drift seen in every sweep is one alert)."""
    try:
        positions = await deps.store.list_all_positions()
        rows = await compare_accounts(deps.broker, positions)
    except (BrokerUnavailable, BrokerBusy, StoreUnavailable) as exc:
        logger.info("Positions not compared this sweep: %s", exc)
        return previous, None  # not seen either way: the next sweep compares with what was seen last
    if rows is None:  # the simulation keeps no account: nothing to compare
        return (), None
    now = drifting(rows)
    confirmed = lasting(previous, now)
    DRIFT_GAUGE.set(len(confirmed))
    if not confirmed:
        return tuple(row.mark for row in now), None
    described = ", ".join(
        f"{r.symbol} (Alpaca {shares_text(r.alpaca)}, tradeflow {shares_text(r.tradeflow)})"
        for r in confirmed
    )
    logger.warning(
        "Positions drift from the account at Alpaca: %s; see tradeflow positions reconcile",
        described,
        extra={"outcome": "positions_drift", "drift": [r.symbol for r in confirmed]},
    )
    at = deps.clock()
    alert = SendAlert(
        alert_id=alert_id_of("drift", f"{at.date().isoformat()}#{','.join(r.mark for r in confirmed)}"),
        kind="drift",
        subject=f"tradeflow: positions drift from Alpaca in {len(confirmed)} symbol(s)",
        body=f"Two sweeps running found tradeflow's positions different from the account at Alpaca: "
        f"{described}. See `tradeflow positions reconcile`.",
        at=at,
    )
    return tuple(row.mark for row in now), alert


def spoken(span: timedelta) -> str:
    """A duration the way an operator reads it: 45s, 12m, 3h05m, 2d04h."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes}m"
    if days == 0:
        return f"{hours}h{minutes % 60:02d}m"
    return f"{days}d{hours % 24:02d}h"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _span_ms(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
