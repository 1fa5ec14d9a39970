"""What a trader, or an account, has done so far, read from the store for the risk limits.

The trader's figures come from their most recent trades (the user-trades index, newest first); an account's
from today's trades (the trades-by-day index) and the open trades (the open-trades index). Both indexes are
eventually consistent on DynamoDB: a trade sent a moment ago may be missing, so two trades sent together can
both pass a limit the pair breaks. The trading day is New York's.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from messages.records import TradeRecord
from messages.trade import TradeRequest
from messages.types import OPEN_STATUSES
from workers.handlers.limit_checks import Usage
from workers.store.port import TradeStore

NEW_YORK = ZoneInfo("America/New_York")
TRADER_WINDOW = 500  # a trader's most recent trades read: more than one trader sends in a day
MINUTE = timedelta(minutes=1)


def trading_day_start(now: datetime) -> datetime:
    """Midnight in New York, today, as an aware datetime."""
    return datetime.combine(now.astimezone(NEW_YORK).date(), time(0), tzinfo=NEW_YORK)


async def trader_usage(store: TradeStore, trade: TradeRequest, now: datetime) -> Usage:
    recent = await store.list_user_trades(trade.user_id, limit=TRADER_WINDOW)
    return usage_in(_others(recent, trade), trade, now)


async def account_usage(store: TradeStore, trade: TradeRequest, now: datetime) -> Usage:
    today = await store.list_trades_since(trading_day_start(now), now + MINUTE)
    mine = [record for record in _others(today, trade) if record.account == trade.account]
    usage = usage_in(mine, trade, now)
    open_now = 0
    async for record in store.iter_open_trades(sorted(OPEN_STATUSES)):
        open_now += record.account == trade.account and record.trade_id != trade.trade_id
    return Usage(
        bought=usage.bought,
        sold=usage.sold,
        open_orders=open_now,
        last_minute=usage.last_minute,
        same_order_ago=None,  # the duplicate guard is the trader's own
    )


def usage_in(records: list[TradeRecord], trade: TradeRequest, now: datetime) -> Usage:
    """The figures over `records`: dollars today each way (filled, or asked while open), open orders,
    orders sent in the last minute, and the last time the same order was sent (refused ones count for
    none of these)."""
    day_start = trading_day_start(now)
    bought = sold = Decimal(0)
    open_orders = last_minute = 0
    same_ago: timedelta | None = None
    for record in records:
        if record.status == "rejected":
            continue
        open_orders += record.is_open
        last_minute += now - record.timestamp <= MINUTE
        if record.timestamp >= day_start:
            dollars = dollars_of(record)
            if record.trade_type == "buy":
                bought += dollars
            else:
                sold += dollars
        if _same_order(record, trade):
            ago = now - record.timestamp
            same_ago = ago if same_ago is None else min(same_ago, ago)
    return Usage(
        bought=bought, sold=sold, open_orders=open_orders, last_minute=last_minute, same_order_ago=same_ago
    )


def dollars_of(record: TradeRecord) -> Decimal:
    """What a trade counts toward a daily limit: what filled, and while open what it still asks for."""
    filled = (record.filled_quantity or Decimal(0)) * (record.execution_price or Decimal(0))
    if not record.is_open:
        return filled
    if record.notional is not None:
        return max(record.notional, filled)
    price = record.price or record.stop_price or record.execution_price or record.reference_price
    if record.quantity is None or price is None:
        return filled
    return max(record.quantity * price, filled)


def _same_order(record: TradeRecord, trade: TradeRequest) -> bool:
    return (
        record.symbol == trade.symbol
        and record.trade_type == trade.side
        and record.quantity == trade.quantity
        and record.notional == trade.notional
        and record.parent_trade_id is None
    )


def _others(records: list[TradeRecord], trade: TradeRequest) -> list[TradeRecord]:
    return [record for record in records if record.trade_id != trade.trade_id]
