"""A trader's working orders and recent trades: what `tradeflow orders` and Slack's `/trade orders` show.

Working orders come from the open-trades index (every open trade, whatever its age); recent ones from the
trader's own index, newest first. Both indexes are eventually consistent on DynamoDB: a trade that changed
a moment ago may show its previous status.
"""

from __future__ import annotations

from messages.records import TradeRecord
from workers.store.port import TradeStore

OPEN = ("awaiting_approval", "pending", "working", "unknown")
OPEN_READ_LIMIT = 1_000  # open trades across every trader, read to find this one's


async def working_and_recent(
    store: TradeStore, user_id: str, recent: int
) -> tuple[list[TradeRecord], list[TradeRecord]]:
    """(the trader's open trades, newest first; their `recent` latest trades that are not among them)."""
    every_open = await store.list_open_trades(OPEN, limit=OPEN_READ_LIMIT)
    working = sorted((t for t in every_open if t.user_id == user_id), key=lambda t: t.timestamp, reverse=True)
    shown = {t.trade_id for t in working}
    latest = [t for t in await store.list_user_trades(user_id, limit=recent) if t.trade_id not in shown]
    return working, latest
