"""Automatic halts: a trader's, or an account's, day P&L at or below its day-loss limit puts it in the
REDUCING state (only trades that reduce a position pass), is journaled and alerted, and stays until an
operator lifts it (`tradeflow resume --user U` / `--account NAME`), for the rest of that day.

A trader's day P&L is what their fills realized on New York's trading day (each position keeps its own,
positions.py); an account's is Alpaca's, its equity against the last close (unrealized moves included).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal

import msgspec

from brokers.port import broker_for
from messages.alerts import SendAlert, alert_id_of
from messages.records import ActivityEvent, KillSwitch, Position
from messages.trade import TradeRequest
from workers.handlers.audit import expires_at
from workers.handlers.deps import Deps
from workers.handlers.usage import NEW_YORK

logger = logging.getLogger("tradeflow.stage.positions")
AUTOMATIC = "tradeflow"  # who a limit's halt is changed by


def trading_day(now: datetime) -> str:
    return now.astimezone(NEW_YORK).date().isoformat()


def realized_today(before: Position, after: Position, now: datetime) -> dict[str, object]:
    """The position's day fields after a fill: today's realized P&L so far plus what this fill realized."""
    today = trading_day(now)
    so_far = before.day_realized_pnl if before.pnl_day == today else Decimal(0)
    return {"pnl_day": today, "day_realized_pnl": so_far + after.realized_pnl - before.realized_pnl}


async def trader_day_pnl(deps: Deps, user_id: str, now: datetime) -> Decimal:
    today = trading_day(now)
    positions = await deps.store.list_positions(user_id)
    return sum((p.day_realized_pnl for p in positions if p.pnl_day == today), Decimal(0))


async def day_loss_halt(trade: TradeRequest, deps: Deps) -> tuple[SendAlert, ...]:
    """Halt the trade's trader and account where their day P&L is at or below their day-loss limit; the
    alerts to send (the same alert ids again while halted: the alerts service sends each once)."""
    limits = await deps.store.get_limits()
    now = deps.clock()
    alerts = []
    trader_limit = limits.for_user(trade.user_id).day_loss_halt
    if trader_limit is not None:
        pnl = await trader_day_pnl(deps, trade.user_id, now)
        switch = KillSwitch(engaged=False, user_id=trade.user_id)
        alerts.append(await _halt_below(switch, pnl, trader_limit, trade, deps, now))
    account = deps.policy.account_of(trade.account)
    account_limit = limits.for_account(account).day_loss_halt
    if account_limit is not None:
        market = await broker_for(deps.broker, trade.account).conditions(trade.symbol)
        if market.equity is not None and market.last_equity is not None:
            switch = KillSwitch(engaged=False, account=account)
            pnl = market.equity - market.last_equity
            alerts.append(await _halt_below(switch, pnl, account_limit, trade, deps, now))
    return tuple(alert for alert in alerts if alert is not None)


async def _halt_below(
    scope: KillSwitch, pnl: Decimal, limit: Decimal, trade: TradeRequest, deps: Deps, now: datetime
) -> SendAlert | None:
    if pnl > -limit:
        return None
    switch = await deps.store.get_kill_switch(scope.account, user_id=scope.user_id)
    today = trading_day(now)
    if switch.engaged and not switch.automatic:
        return None  # an operator's own halt stands, and was alerted as theirs
    if not switch.engaged:
        lifted_today = switch.changed_at is not None and trading_day(switch.changed_at) == today
        if lifted_today and switch.changed_by != AUTOMATIC:
            return None  # an operator lifted it today: it stays lifted until tomorrow
        switch = msgspec.structs.replace(
            scope,
            engaged=True,
            mode="reducing",
            automatic=True,
            reason=f"day P&L {_money(pnl)} is at or below the day-loss limit of {_money(-limit)}",
            changed_by=AUTOMATIC,
            changed_at=now,
        )
        details = {"reason": switch.reason, "mode": "reducing", "automatic": True, "pnl": str(pnl)}
        details |= {"account": switch.account} if switch.account else {"user_id": switch.user_id}
        entry = ActivityEvent(
            stream="ops",
            event_type="trading_halted",
            actor=AUTOMATIC,
            at=now,
            event_id=uuid.uuid4(),
            details=details,
            expires_at=expires_at(now, deps.retention_days),
        )
        await deps.store.set_kill_switch(switch, entry)
        logger.warning("Automatic REDUCING halt %s: %s", switch.scope, switch.reason)
    lift = f"--user {switch.user_id}" if switch.user_id else f"--account {switch.account}"
    return SendAlert(
        alert_id=alert_id_of("halt", f"auto#{lift}#{today}"),
        kind="halt",
        subject=f"tradeflow: trading {switch.scope} halted (REDUCING)",
        body=f"Trading {switch.scope} is limited to reducing positions: {switch.reason}. "
        f"Only exposure-reducing trades pass until an operator lifts it (tradeflow resume {lift}).",
        at=now,
        user_id=switch.user_id,
        account=switch.account,
        trade_id=trade.trade_id,
    )


def _money(value: Decimal) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"
