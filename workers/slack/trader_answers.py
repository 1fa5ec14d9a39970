"""`/trade orders` and `/trade positions`: the trader's own working orders, recent trades and positions,
answered in the channel for their eyes only (ephemeral). The App Home shows the same, kept current.

Slack waits 3 s for a slash command's answer, so the store and the prices get ANSWER_TIMEOUT_S between
them; past it, or with the store down, the answer says so and where to look instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from messages.records import Position, TradeRecord
from workers.handlers.trader_views import working_and_recent
from workers.slack.blocks import Block, cancel_button, section
from workers.store.port import TradeStore

logger = logging.getLogger("tradeflow.ingress")

ANSWER_TIMEOUT_S = 2.0
BUTTONS_MAX = 25  # Block Kit's most elements in one actions block
PRICE_TIMEOUT_S = 1.0
RECENT = 5
UNAVAILABLE = "I can't read your {what} right now: try again in a moment, or open tradeflow's App Home."

PriceLookup = Callable[[str], Awaitable[Decimal | None]]
KINDS = ("orders", "positions", "account")  # what `/trade WORD` answers in the channel
AccountLookup = Callable[[str | None], Awaitable[dict[str, Any]]]  # by account name (None: the default)


async def answer(kind: str, store: TradeStore, prices: PriceLookup, user_id: str) -> str:
    """The ephemeral answer to `/trade orders` or `/trade positions`, bounded by ANSWER_TIMEOUT_S."""
    text, _ = await answer_with_buttons(kind, store, prices, user_id)
    return text


async def answer_with_buttons(
    kind: str, store: TradeStore, prices: PriceLookup, user_id: str
) -> tuple[str, list[Block]]:
    """The answer's text, and its blocks: for `/trade orders`, a Cancel button per working order."""
    build = _orders(store, user_id) if kind == "orders" else _positions(store, prices, user_id)
    try:
        text, working = await asyncio.wait_for(build, ANSWER_TIMEOUT_S)
    except Exception as exc:  # the store down or slow: the trader is told, the ingress goes on
        logger.warning("/trade %s for %s not answered: %s", kind, user_id, type(exc).__name__)
        return UNAVAILABLE.format(what=kind), []
    at_broker = [t for t in working if t.status != "pending"][:BUTTONS_MAX]
    if not at_broker:
        return text, []
    buttons = [
        cancel_button(t.trade_id, f"Cancel {t.trade_type.upper()} {t.size_text} {t.symbol}")
        for t in at_broker
    ]
    return text, [section(text), {"type": "actions", "elements": buttons}]


async def account_answer(lookup: AccountLookup | None, *, operator: bool, account: str | None = None) -> str:
    """`/trade account`: the trader's paper account's cash, buying power, equity and today's change (their
    default account); an operator also sees which account it is and its status."""
    if lookup is None:
        return "There is no Alpaca account to show: this deployment trades on the simulation."
    try:
        doc = await asyncio.wait_for(lookup(account), ANSWER_TIMEOUT_S)
    except Exception as exc:
        logger.warning("/trade account not answered: %s", type(exc).__name__)
        return UNAVAILABLE.format(what="account")
    if not doc.get("read"):
        return f"I can't read the account right now: {doc.get('why', 'Alpaca did not answer')}."
    pct = f" ({doc['change_today_pct']} %)" if doc.get("change_today_pct") is not None else ""
    lines = ["*Alpaca paper account*" + (f" · {doc['account']}" if doc.get("account") else "")]
    if operator:
        lines.append(f"• Account {doc['account_number']} · {doc['status']}")
    lines += [
        f"• Cash ${Decimal(doc['cash']):,.2f} · Buying power ${Decimal(doc['buying_power']):,.2f}",
        f"• Equity ${Decimal(doc['equity']):,.2f} · Today {_signed(Decimal(doc['change_today']))}{pct}",
    ]
    return "\n".join(lines)


async def _orders(store: TradeStore, user_id: str) -> tuple[str, list[TradeRecord]]:
    working, recent = await working_and_recent(store, user_id, RECENT)
    lines = ["*Your working orders*" if working else "You have no working orders."]
    lines += [f"• {_order(t)}" for t in working]
    if recent:
        lines += ["*Recent trades*", *(f"• {_order(t)}" for t in recent)]
    return "\n".join(lines), working


def _order(trade: TradeRecord) -> str:
    terms: str = trade.order_type
    if trade.price is not None:
        terms += f" {trade.price}"
    if trade.stop_price is not None:
        terms += f" stop {trade.stop_price}"
    outcome: str = trade.status
    if trade.filled_quantity:
        outcome += f", filled {trade.filled_quantity}"
    if trade.execution_price is not None:
        outcome += f" at ${trade.execution_price} via {trade.execution_method}"
    if trade.error_code:
        outcome += f" ({trade.error_code})"
    order = f"{trade.trade_type.upper()} {trade.size_text} {trade.symbol} {terms} {trade.time_in_force}"
    return f"{order} · {outcome} · `{trade.trade_id}`"


async def _positions(store: TradeStore, prices: PriceLookup, user_id: str) -> tuple[str, list[TradeRecord]]:
    held = [p for p in await store.list_positions(user_id) if p.quantity or p.realized_pnl]
    if not held:
        return "You hold no positions.", []
    last = await asyncio.gather(*(_price(prices, p.symbol) for p in held))
    lines = [f"• {_position(p, price)}" for p, price in zip(held, last, strict=True)]
    return "\n".join(["*Your positions*", *lines]), []


def _position(position: Position, price: Decimal | None) -> str:
    where = f" ({position.account})" if position.account else ""
    line = f"{position.symbol}{where} {position.quantity} @ ${position.average_cost:.2f} avg"
    if price is not None and position.quantity:
        unrealized = (price - position.average_cost) * position.quantity
        value = price * position.quantity
        line += f" · last ${price:.2f} · value {_signed(value)} · unrealized {_signed(unrealized)}"
    return line + f" · realized {_signed(position.realized_pnl)}"


def _signed(amount: Decimal) -> str:
    return f"{'+' if amount >= 0 else '-'}${abs(amount):,.2f}"


async def _price(prices: PriceLookup, symbol: str) -> Decimal | None:
    try:
        return await asyncio.wait_for(prices(symbol), PRICE_TIMEOUT_S)
    except Exception:  # a price is a nicety here: the position shows without it
        return None
