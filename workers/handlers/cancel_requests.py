"""Which orders a cancel asks for: `/trade cancel TRADE_ID | SYMBOL | all`, `tradeflow trade cancel`, and
`tradeflow halt --cancel-working`. Pure reads: the caller publishes the CancelOrder commands it returns.

A trader cancels their own orders; an operator any trader's, and `everyone` (every working order across
traders) is theirs alone. Each trade is re-read consistently before it is named: the open-trades index may
still list a trade that just ended.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from messages.events import CancelOrder, cancel_command_id
from messages.records import TradeRecord
from workers.handlers.legs import leg_trade_id
from workers.handlers.trader_views import OPEN, OPEN_READ_LIMIT
from workers.store.port import TradeStore

EVERYONE = "everyone"  # every trader's working orders: operators only
_SYMBOL = re.compile(r"^[A-Z]{1,5}(\.[A-Z]{1,2})?$")


class BadCancel(ValueError):
    """The cancel names nothing that can be canceled, or nothing the requester may cancel: changes nothing."""


@dataclass(frozen=True)
class CancelPlan:
    commands: list[CancelOrder]
    trades: list[TradeRecord] = field(default_factory=list)  # the trade of each command, in order


async def plan_cancel(
    store: TradeStore,
    target: str,
    *,
    requester: str,
    operator: bool,
    at: datetime,
    source: str,
    owner: str | None = None,
) -> CancelPlan:
    """The CancelOrder of each open order `target` names (a trade id, a symbol, `all`, or `everyone`).

    A symbol or `all` means `owner`'s orders (default: the requester's own); another owner is an operator's.

    BadCancel, with what the requester can do, when it names a trade that is unknown, someone else's, or
    finished, a malformed target, or `everyone` without the operator role.
    """
    word, owner = target.strip(), owner or requester
    if owner != requester and not operator:
        raise BadCancel("Canceling another trader's orders is for operators only")
    trade_id = _trade_id(word)
    if trade_id is not None:
        record = await store.get_trade(trade_id)
        if record is None or (record.user_id != requester and not operator):
            raise BadCancel(f"No trade of yours has the id {trade_id}: check it with `/trade orders`")
        open_legs = await _open_legs(store, record)
        if record.is_terminal and not open_legs:
            raise BadCancel(f"Trade {trade_id} is already {record.status}: there is nothing left to cancel")
        trades = open_legs if record.is_terminal else [record]  # an open order's legs go with it
    elif word.lower() in ("all", EVERYONE):
        if word.lower() == EVERYONE and not operator:
            raise BadCancel("Canceling every trader's orders is for operators only")
        trades = await _open(store, None if word.lower() == EVERYONE else owner)
    elif _SYMBOL.match(word.upper()):
        trades = [t for t in await _open(store, owner) if t.symbol == word.upper()]
    else:
        raise BadCancel(f"`{word[:40]}` is not a trade id, a symbol or `all`: try `/trade cancel all`")
    commands = [
        CancelOrder(
            trade=t.request(),
            command_id=cancel_command_id(t.trade_id),
            requested_by=requester,
            requested_at=at,
            source=source,
        )
        for t in trades
    ]
    return CancelPlan(commands=commands, trades=trades)


async def _open(store: TradeStore, user_id: str | None) -> list[TradeRecord]:
    """Open trades (of one trader, or every trader's), each re-read: the index may lag an end."""
    listed = await store.list_open_trades(OPEN, limit=OPEN_READ_LIMIT)
    current = [await store.get_trade(t.trade_id) for t in listed if user_id is None or t.user_id == user_id]
    return sorted((t for t in current if t is not None and t.is_open), key=lambda t: t.timestamp)


def _trade_id(word: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(word)
    except ValueError:
        return None


def describe(plan: CancelPlan, target: str) -> str:
    """What the requester is told at once (the outcome of each order follows as its own notice)."""
    if not plan.trades:
        where = "" if target.lower() in ("all", EVERYONE) else f" in {target.upper()}"
        return f"You have no working orders{where} to cancel."
    lines = [f"Cancel requested for {len(plan.trades)} order{'' if len(plan.trades) == 1 else 's'}:"]
    lines += [
        f"• {t.trade_type.upper()} {t.size_text} {t.symbol} {t.order_type} · {t.status} · `{t.trade_id}`"
        for t in plan.trades
    ]
    lines.append("You will get a message as each one ends: canceled, or filled if the cancel came too late.")
    return "\n".join(lines)


async def _open_legs(store: TradeStore, record: TradeRecord) -> list[TradeRecord]:
    """A bracket's, OTO's or OCO's exits still open: canceling the trade cancels them."""
    legs = [await store.get_trade(leg_trade_id(leg)) for leg in record.legs]
    return [leg for leg in legs if leg is not None and leg.is_open]
