"""Which market orders flatten a trader's positions: `/trade close SYMBOL | all`, `tradeflow positions close`.

Pure reads: the caller publishes each as a SubmitTrade down the whole chain, so a close is validated,
audited, executed at Alpaca (or the labelled simulation), applied to the position and told like any trade.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from messages.records import Position
from messages.trade import TradeRequest
from workers.store.port import TradeStore

_SYMBOL = re.compile(r"^[A-Z]{1,5}(\.[A-Z]{1,2})?$")


class BadClose(ValueError):
    """Nothing to close, or not a symbol: the message says so, and nothing is sent."""


async def closing_trades(
    store: TradeStore, user_id: str, target: str, *, channel_id: str | None, at: datetime, source: str
) -> list[TradeRequest]:
    """The market order that brings each position `target` names (a symbol, or `all`) to zero."""
    word = target.strip().upper()
    if word != "ALL" and not _SYMBOL.match(word):
        raise BadClose(f"`{word[:12]}` is not a symbol: say `close AAPL` or `close all`")
    held = [p for p in await store.list_positions(user_id) if p.quantity and word in ("ALL", p.symbol)]
    if not held:
        raise BadClose(
            "You hold no positions to close." if word == "ALL" else f"You hold no {word} to close."
        )
    return [_closing_trade(p, user_id, channel_id, at, source) for p in held]


def _closing_trade(
    position: Position, user_id: str, channel_id: str | None, at: datetime, source: str
) -> TradeRequest:
    """Sell a long, buy back a short: the whole quantity, at market."""
    return TradeRequest(
        trade_id=uuid.uuid4(),
        user_id=user_id,
        channel_id=channel_id,
        symbol=position.symbol,
        side="sell" if position.quantity > 0 else "buy",
        quantity=abs(position.quantity),
        submitted_at=at,
        source=source,
        account=position.account,
    )
