"""After a campaign: read every trade, order, message and position back, and count what went wrong.

Each figure is a count that must be zero (except the ones that describe the run); `problems()` names them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from emulators.alpaca.admin_client import AdminClient as AlpacaAdmin
from emulators.slack.admin_client import AdminClient as SlackAdmin
from messages.records import TradeRecord
from tests.faults.injectors import ALPACA_TIMEOUT_S
from tests.faults.told import check_told
from workers.handlers.audit import NOTIFIED_KEY
from workers.store.port import TradeStore

# An order whose safety check passed just before the account turned live may still land: the check and the
# order are two requests, each bounded by the Alpaca timeout. Orders later in the window must not exist.
GUARD_GRACE_S = 2 * ALPACA_TIMEOUT_S + 0.5


@dataclass
class Figures:
    trades: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # failed trades by error code, and how
    lost: list[str] = field(default_factory=list)  # accepted, and no record or stuck without a reason
    in_reconciliation: list[str] = field(default_factory=list)
    duplicate_orders: list[str] = field(default_factory=list)
    executed_twice: list[str] = field(default_factory=list)  # filled at Alpaca, recorded as another fill
    duplicate_notifications: list[str] = field(default_factory=list)
    missing_notifications: list[str] = field(default_factory=list)
    position_mismatches: list[str] = field(default_factory=list)
    unexplained_dead_letters: list[str] = field(default_factory=list)
    dead_letters_replayed: int = 0
    orders_while_guard_failed: list[str] = field(default_factory=list)
    orders_at_alpaca: int = 0
    untold: list[str] = field(default_factory=list)  # accepted, and the trader never heard how it ended
    simulated_beside_order: list[str] = field(default_factory=list)  # simulated, and Alpaca has its order

    def verdicts(self) -> dict[str, list[str]]:
        """Every verdict of the campaign, by name, with what went wrong (empty: it held)."""
        return {
            "lost": self.lost,
            "duplicate orders": self.duplicate_orders,
            "executed twice (an Alpaca fill and another outcome)": self.executed_twice,
            "duplicate notifications": self.duplicate_notifications,
            "missing notifications": self.missing_notifications,
            "position mismatches": self.position_mismatches,
            "unexplained dead letters": self.unexplained_dead_letters,
            "orders while the paper guard failed": self.orders_while_guard_failed,
            "untold submissions": self.untold,
            "simulated beside a real order": self.simulated_beside_order,
        }

    def problems(self) -> dict[str, list[str]]:
        return {name: values for name, values in self.verdicts().items() if values}

    def lines(self) -> list[str]:
        return [
            f"trades accepted: {self.trades}  statuses: {dict(self.statuses)}  methods: {dict(self.methods)}",
            f"failed: {dict(self.failures)}",
            f"orders at Alpaca: {self.orders_at_alpaca}",
            f"lost: {len(self.lost)}  in reconciliation with a reason: {len(self.in_reconciliation)}",
            f"duplicate orders: {len(self.duplicate_orders)}  executed twice: {len(self.executed_twice)}  "
            f"simulated beside a real order: {len(self.simulated_beside_order)}",
            f"duplicate DMs (a trade's notice posted twice): {len(self.duplicate_notifications)}  "
            f"missing notifications: {len(self.missing_notifications)}",
            f"untold submissions: {len(self.untold)}",
            f"position mismatches: {len(self.position_mismatches)}",
            f"dead letters replayed: {self.dead_letters_replayed}  "
            f"unexplained: {len(self.unexplained_dead_letters)}",
            f"orders while the paper guard failed: {len(self.orders_while_guard_failed)}",
        ]


async def read_trades(store: TradeStore, trade_ids: set[uuid.UUID]) -> dict[uuid.UUID, TradeRecord | None]:
    gate = asyncio.Semaphore(16)

    async def one(trade_id: uuid.UUID) -> tuple[uuid.UUID, TradeRecord | None]:
        async with gate:
            return trade_id, await store.get_trade(trade_id)

    return dict(await asyncio.gather(*(one(t) for t in trade_ids)))


async def read_notified(
    store: TradeStore, trade_ids: set[uuid.UUID], key: str = NOTIFIED_KEY
) -> set[uuid.UUID]:
    """The trades whose outcome notice (or the notice `key` names) was delivered: the notifier writes it
    after Slack's ok."""
    gate = asyncio.Semaphore(16)

    async def one(trade_id: uuid.UUID) -> uuid.UUID | None:
        async with gate:
            return trade_id if await store.get_audit(trade_id, key) is not None else None

    return {t for t in await asyncio.gather(*(one(t) for t in trade_ids)) if t is not None}


def is_settled(record: TradeRecord | None) -> bool:
    """Terminal, or left for reconciliation with a reason an operator can read."""
    if record is None:
        return False
    return record.is_terminal or (
        record.status in ("working", "unknown") and bool(record.error_message or record.order_status)
    )


async def check(
    store: TradeStore,
    trades: dict[uuid.UUID, TradeRecord | None],
    alpaca: AlpacaAdmin,
    slack: SlackAdmin,
    guard_windows: list[tuple[float, float]],
) -> Figures:
    figures = Figures(trades=len(trades))
    for trade_id, record in trades.items():
        figures.statuses[record.status if record else "missing"] += 1
        if record is not None and record.execution_method:
            figures.methods[record.execution_method] += 1
        if record is not None and record.status == "failed":
            figures.failures[f"{record.error_code} ({record.execution_method or 'no method'})"] += 1
        if not is_settled(record):
            figures.lost.append(f"{trade_id}: {record.status if record else 'no record'}")
        elif record is not None and not record.is_terminal:
            figures.in_reconciliation.append(f"{trade_id}: {record.status} ({record.error_message})")
    _orders(figures, trades, alpaca.orders(), first_arrivals(alpaca.order_requests()), guard_windows)
    told = check_told(trades, alpaca.orders(), slack.messages())
    figures.duplicate_notifications, figures.missing_notifications = told.duplicate, told.missing
    figures.untold, figures.simulated_beside_order = told.untold, told.simulated_beside_order
    await _positions(figures, store, trades)
    return figures


def _orders(
    figures: Figures,
    trades: dict[uuid.UUID, TradeRecord | None],
    orders: list[dict[str, Any]],
    sent_at: dict[str, float],
    guard_windows: list[tuple[float, float]],
) -> None:
    ours = {str(t): record for t, record in trades.items()}
    per_trade = Counter(o["client_order_id"] for o in orders if o["client_order_id"] in ours)
    figures.orders_at_alpaca = sum(per_trade.values())
    figures.duplicate_orders = [f"{t}: {n} orders" for t, n in per_trade.items() if n > 1]
    for order in orders:
        record = ours.get(order["client_order_id"])
        filled = Decimal(str(order.get("filled_qty") or 0))
        if record is not None and filled > 0 and record.execution_method != "alpaca":
            figures.executed_twice.append(
                f"{record.trade_id}: {filled} filled at Alpaca, recorded {record.status} "
                f"({record.execution_method or 'no fill'})"
            )
    for order in orders:
        sent = sent_at.get(order["client_order_id"]) or _epoch(order["created_at"])
        if any(start + GUARD_GRACE_S < sent < end for start, end in guard_windows):
            figures.orders_while_guard_failed.append(f"{order['client_order_id']} at {order['created_at']}")


def _epoch(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def first_arrivals(order_requests: list[dict[str, Any]]) -> dict[str, float]:
    """When each client_order_id's first order request reached Alpaca (epoch seconds).

    The paper guard is judged by when an order was sent, not by its `created_at`: a "slow" fault before the
    order holds the request up to the Alpaca timeout and 1.5 s more before the order exists, so an order
    sent just after a passing check could be created well inside the window (seed 752477019: sent 1.6 s
    into it, created 4.5 s in)."""
    arrivals: dict[str, float] = {}
    for request in order_requests:
        key, at = request.get("client_order_id"), _epoch(request["received_at"])
        if key and at < arrivals.get(key, float("inf")):
            arrivals[key] = at
    return arrivals


async def _positions(
    figures: Figures, store: TradeStore, trades: dict[uuid.UUID, TradeRecord | None]
) -> None:
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for record in trades.values():
        if record is not None and record.status == "executed" and record.filled_quantity:
            signed = record.filled_quantity if record.trade_type == "buy" else -record.filled_quantity
            expected[(record.user_id, record.symbol)] += signed
    users = {user for user, _ in expected}
    for user in sorted(users):
        held = {p.symbol: p.quantity for p in await store.list_positions(user)}
        for (owner, symbol), quantity in expected.items():
            if owner == user and held.get(symbol, Decimal(0)) != quantity:
                figures.position_mismatches.append(
                    f"{user}/{symbol}: position {held.get(symbol, 0)}, fills sum {quantity}"
                )
