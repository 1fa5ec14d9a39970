"""App Home: the trader's positions with their P&L, their recent trades, and a "New trade" button."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from slack_sdk.web.async_client import AsyncWebClient

from messages.records import Position, Role, TradeRecord
from workers.handlers.ports import RoleReader
from workers.notify.templates import METHOD_LABELS
from workers.slack.blocks import (
    SECTION_TEXT_MAX,
    VIEW_BLOCKS_MAX,
    Block,
    Blocks,
    cancel_button,
    context,
    field,
    field_sections,
    header,
    money,
    plain_text,
    quantity_text,
    section,
    signed_money,
    withdraw_button,
)
from workers.store.port import TradeStore

logger = logging.getLogger("tradeflow.slack.home")

PriceLookup = Callable[[str], Awaitable[Decimal | None]]

NEW_TRADE_ACTION_ID = "new_trade"
HOME_ROLES: tuple[Role, ...] = ("viewer", "trader")  # who may see their App Home
RECENT_TRADES = 10
PRICE_TIMEOUT_S = 3.0
STATUS_EMOJI = {
    "executed": "✅",
    "failed": "❌",
    "rejected": "🚫",
    "awaiting_approval": "⏳",
    "pending": "⏳",
    "working": "🕐",
    "unknown": "❓",
}
_NO_VALUE = "—"
_COLUMNS = ("Symbol", "Qty", "Avg cost", "Last", "Unrealized", "Realized")


def unrealized_pnl(position: Position, last_price: Decimal) -> Decimal:
    """(last − average cost) × quantity: a short position (negative quantity) gains when the price falls."""
    return (last_price - position.average_cost) * position.quantity


def home_view(
    user_id: str,
    positions: Sequence[Position],
    recent_trades: Sequence[TradeRecord],
    last_prices: Mapping[str, Decimal | None],
) -> Block:
    """The App Home tab: header, "New trade" button, positions table with totals, recent trades."""
    blocks: Blocks = [
        header("📈 Paper Trading"),
        section(f"Hi <@{user_id}>: your positions and latest trades, on Alpaca paper trading or simulation."),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": NEW_TRADE_ACTION_ID,
                    "text": plain_text("New trade", 75),
                    "style": "primary",
                }
            ],
        },
        {"type": "divider"},
    ]
    if not positions and not recent_trades:
        blocks.append(
            section("*No trades yet.*\nClick *New trade* (or type `/trade`) to place your first one.")
        )
    else:
        blocks += _positions(positions, last_prices)
        blocks.append({"type": "divider"})
        blocks += _recent_trades(recent_trades)
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS_MAX]}


def no_access_view(user_id: str) -> Block:
    """The App Home of someone who may neither view nor trade: politely, what to ask for."""
    return {
        "type": "home",
        "blocks": [
            header("📈 Paper Trading"),
            section(f"Hi <@{user_id}>. You do not have access to this trading app yet."),
            section(
                "To see your positions and trades here, ask an admin to grant you the *viewer* role, "
                "or the *trader* role to place trades as well."
            ),
            context(f"For the admin: `tradeflow users add {user_id} --role viewer`"),
        ],
    }


async def publish_home_for(
    client: AsyncWebClient, store: TradeStore, prices: PriceLookup, roles: RoleReader, user_id: str
) -> bool:
    """Publish the user's App Home if they may see it (viewer or trader), else the no-access view.

    True when they may see it. Store and Slack errors propagate, as publish_home's.
    """
    if await roles.has_role(user_id, *HOME_ROLES):
        await publish_home(client, store, prices, user_id)
        return True
    await client.views_publish(user_id=user_id, view=no_access_view(user_id))
    return False


async def publish_home(
    client: AsyncWebClient,
    store: TradeStore,
    prices: PriceLookup,
    user_id: str,
    *,
    price_timeout_s: float = PRICE_TIMEOUT_S,
) -> None:
    """Gather the trader's positions, recent trades and last prices, and publish their App Home.

    A price that cannot be had (None, an error, slower than `price_timeout_s`) shows as "—" and stays out
    of the unrealized total. Store and Slack errors propagate: the caller decides what they mean.
    """
    positions, trades = await asyncio.gather(
        store.list_positions(user_id), store.list_user_trades(user_id, limit=RECENT_TRADES)
    )
    held = sorted({p.symbol for p in positions if p.quantity != 0})
    quotes = await asyncio.gather(*(_last_price(prices, symbol, price_timeout_s) for symbol in held))
    view = home_view(user_id, positions, trades, dict(zip(held, quotes, strict=True)))
    await client.views_publish(user_id=user_id, view=view)


async def _last_price(prices: PriceLookup, symbol: str, timeout_s: float) -> Decimal | None:
    try:
        return await asyncio.wait_for(prices(symbol), timeout=timeout_s)
    except Exception as exc:  # App Home shows the rest without this price
        logger.warning("No last price for %s in App Home: %r", symbol, exc)
        return None


def _positions(positions: Sequence[Position], last_prices: Mapping[str, Decimal | None]) -> Blocks:
    if not positions:
        return [section("*Positions*\nNo positions yet.")]
    rows: list[tuple[str, ...]] = []
    unrealized_total = realized_total = Decimal(0)
    unpriced: list[str] = []
    for position in positions:
        last = last_prices.get(position.symbol) if position.quantity else None
        if not position.quantity:
            unrealized: Decimal | None = Decimal(0)
        elif last is None:
            unrealized = None
            unpriced.append(position.symbol)
        else:
            unrealized = unrealized_pnl(position, last)
        if unrealized is not None:
            unrealized_total += unrealized
        realized_total += position.realized_pnl
        rows.append(
            (
                position.symbol + (f" ({position.account})" if position.account else ""),
                quantity_text(position.quantity),
                money(position.average_cost) if position.quantity else _NO_VALUE,
                _NO_VALUE if last is None else money(last),
                _NO_VALUE if unrealized is None else signed_money(unrealized),
                signed_money(position.realized_pnl),
            )
        )
    blocks = [section("*Positions*"), *(section(table) for table in _tables(rows))]
    totals = [
        field("Unrealized P&amp;L", signed_money(unrealized_total)),
        field("Realized P&amp;L", signed_money(realized_total)),
    ]
    blocks += field_sections("Totals", totals)
    if unpriced:
        blocks.append(context(f"No last price for {', '.join(unpriced)}: not in the unrealized total."))
    return blocks


def _tables(rows: list[tuple[str, ...]]) -> list[str]:
    """The rows as aligned monospace tables (symbol left, numbers right), each within a section's limit."""
    widths = [max(len(cell) for cell in column) for column in zip(_COLUMNS, *rows, strict=False)]

    def line(cells: tuple[str, ...]) -> str:
        first, *numbers = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(numbers, widths[1:], strict=True))]
        )

    tables: list[str] = []
    lines = [line(_COLUMNS)]
    for row in rows:
        candidate = [*lines, line(row)]
        if len("```\n" + "\n".join(candidate) + "\n```") > SECTION_TEXT_MAX and len(lines) > 1:
            tables.append("```\n" + "\n".join(lines) + "\n```")
            candidate = [line(_COLUMNS), line(row)]
        lines = candidate
    tables.append("```\n" + "\n".join(lines) + "\n```")
    return tables


def _recent_trades(trades: Sequence[TradeRecord]) -> Blocks:
    if not trades:
        return [section("*Recent trades*\nNo trades yet.")]
    blocks = [section("*Recent trades*")]
    for trade in trades:
        if trade.status == "awaiting_approval":  # no order yet: its cancel withdraws the request
            button = withdraw_button(trade.trade_id)
            blocks.append({**section(_trade_line(trade)), "accessory": button})
        elif trade.is_open and trade.status != "pending":  # an order at Alpaca: it can be canceled here
            blocks.append({**section(_trade_line(trade)), "accessory": cancel_button(trade.trade_id)})
        else:
            blocks.append(context(_trade_line(trade)))
    return blocks


def _trade_line(trade: TradeRecord) -> str:
    emoji = STATUS_EMOJI.get(trade.status, "•")
    size = quantity_text(trade.quantity) if trade.quantity is not None else f"${trade.notional:,.2f} of"
    order = f"*{trade.trade_type.upper()}* {size} *{trade.symbol}*"
    parts = [f"{emoji} {trade.status.replace('_', ' ').capitalize()}: {order}", _price(trade)]
    if trade.execution_method is not None:
        parts.append(METHOD_LABELS[trade.execution_method])
    if trade.account is not None:
        parts.append(f"account {trade.account}")
    parts.append(_when(trade.execution_timestamp or trade.timestamp))
    return " · ".join(parts)


def _price(trade: TradeRecord) -> str:
    if trade.execution_price is not None:
        return f"@ {money(trade.execution_price)}"
    terms = [
        f"{name} {money(price)}"
        for name, price in (("limit", trade.price), ("stop", trade.stop_price))
        if price
    ]
    return ", ".join(terms) or "market"


def _when(moment: datetime) -> str:
    """A time Slack shows in the reader's own time zone, with a UTC fallback."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    fallback = f"{utc:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
