"""App Home: positions with exact P&L (long and short), recent trades, the empty state, and its publishing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import msgspec

from messages.records import Position
from tests.contract.builders import NOW, POSITION_GUARD, a_trade, audit, executed, failed, pending, working
from tests.unit.test_slack_blocks import assert_within_block_kit_limits, texts_of
from workers.slack.home import home_view, publish_home, unrealized_pnl
from workers.store.memory.store import MemoryTradeStore


def holding(symbol: str, quantity: str, average_cost: str, realized: str = "0") -> Position:
    return Position(
        user_id="U123",
        symbol=symbol,
        quantity=Decimal(quantity),
        average_cost=Decimal(average_cost),
        realized_pnl=Decimal(realized),
    )


LONG = holding("AAPL", "100", "150.0523", realized="12.345")
SHORT = holding("TSLA", "-50", "200.10", realized="-3.10")
CLOSED = holding("MSFT", "0", "0", realized="40.00")


def all_text(view: dict[str, Any]) -> str:
    return "\n".join(texts_of(view["blocks"]))


def table_rows(view: dict[str, Any]) -> dict[str, list[str]]:
    """The positions table as symbol -> its cells."""
    rows: dict[str, list[str]] = {}
    for text in texts_of(view["blocks"]):
        if text.startswith("```"):
            for line in text.strip("`").strip().splitlines()[1:]:
                symbol, *cells = line.split()
                rows[symbol] = cells
    return rows


def test_unrealized_pnl_is_exact_for_long_and_short_positions() -> None:
    assert unrealized_pnl(LONG, Decimal("151.10")) == Decimal("104.77")  # (151.10 − 150.0523) × 100
    assert unrealized_pnl(SHORT, Decimal("190.05")) == Decimal("502.50")  # a short gains as the price falls
    assert unrealized_pnl(SHORT, Decimal("210.10")) == Decimal("-500.00")
    # Where binary floats drift (0.1 + 0.2), Decimal stays exact.
    assert unrealized_pnl(holding("X", "3", "0.1"), Decimal("0.3")) == Decimal("0.6")
    assert isinstance(unrealized_pnl(LONG, Decimal("151.10")), Decimal)


def test_the_positions_table_shows_quantity_cost_price_and_pnl_with_totals() -> None:
    prices = {"AAPL": Decimal("151.10"), "TSLA": Decimal("190.05")}
    view = home_view("U123", [LONG, CLOSED, SHORT], [], prices)
    assert view["type"] == "home"
    assert table_rows(view) == {
        "AAPL": ["100", "$150.05", "$151.10", "+$104.77", "+$12.34"],
        "MSFT": ["0", "—", "—", "$0.00", "+$40.00"],
        "TSLA": ["-50", "$200.10", "$190.05", "+$502.50", "-$3.10"],
    }
    text = all_text(view)
    assert "*Unrealized P&amp;L:*\n+$607.27" in text  # 104.77 + 502.50
    assert "*Realized P&amp;L:*\n+$49.24" in text  # 12.345 + 40.00 − 3.10 = 49.245, half-even
    assert_within_block_kit_limits(view["blocks"], 100)


def test_a_symbol_without_a_price_shows_a_dash_and_stays_out_of_the_total() -> None:
    view = home_view("U123", [LONG, SHORT], [], {"AAPL": Decimal("151.10"), "TSLA": None})
    assert table_rows(view)["TSLA"] == ["-50", "$200.10", "—", "—", "-$3.10"]
    text = all_text(view)
    assert "*Unrealized P&amp;L:*\n+$104.77" in text
    assert "No last price for TSLA" in text


def test_the_home_has_a_header_and_a_new_trade_button() -> None:
    view = home_view("U123", [LONG], [], {"AAPL": Decimal(1)})
    assert view["blocks"][0]["type"] == "header"
    (actions,) = [block for block in view["blocks"] if block["type"] == "actions"]
    (button,) = actions["elements"]
    assert button["action_id"] == "new_trade"
    assert button["text"]["text"] == "New trade"


def test_recent_trades_show_status_side_quantity_symbol_price_method_and_time() -> None:
    done = executed(pending(a_trade(quantity=Decimal(100))))
    lost = failed(pending(a_trade(side="sell", symbol="TSLA", quantity=Decimal(5))))
    resting = working(pending(a_trade(order_type="limit", limit_price=Decimal("149.5"), quantity=Decimal(2))))
    refused = msgspec.structs.replace(pending(a_trade(symbol="MSFT", quantity=Decimal(7))), status="rejected")
    view = home_view("U123", [], [done, lost, resting, refused], {})
    lines = [
        block["elements"][0]["text"] if block["type"] == "context" else block["text"]["text"]
        for block in view["blocks"]
        if block["type"] == "context" or "accessory" in block
    ]
    when = f"<!date^{int(NOW.timestamp())}^{{date_short_pretty}} {{time}}|2026-11-25 14:30 UTC>"
    assert lines == [
        f"✅ Executed: *BUY* 100 *AAPL* · @ $150.05 · 🎲 Simulation · {when}",
        f"❌ Failed: *SELL* 5 *TSLA* · market · {when}",
        f"🕐 Working: *BUY* 2 *AAPL* · limit $149.50 · {when}",
        f"🚫 Rejected: *BUY* 7 *MSFT* · market · {when}",
    ]
    assert "No positions yet." in all_text(view)


def test_only_a_working_order_carries_a_cancel_button_naming_its_trade() -> None:
    done = executed(pending(a_trade(quantity=Decimal(100))))
    resting = working(pending(a_trade(order_type="limit", limit_price=Decimal("149.5"), quantity=Decimal(2))))
    view = home_view("U123", [], [done, resting], {})
    buttons = [block["accessory"] for block in view["blocks"] if "accessory" in block]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("cancel_order", str(resting.trade_id))]
    assert buttons[0]["confirm"]["deny"]["text"] == "Keep it"


def test_a_trade_awaiting_approval_carries_a_withdraw_button_that_says_so() -> None:
    waiting = msgspec.structs.replace(pending(a_trade(quantity=Decimal(500))), status="awaiting_approval")
    view = home_view("U123", [], [waiting], {})
    [button] = [block["accessory"] for block in view["blocks"] if "accessory" in block]
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        "cancel_order",
        str(waiting.trade_id),
        "Withdraw",
    )
    assert button["confirm"]["title"]["text"] == "Withdraw this trade?"
    assert "nothing was sent to Alpaca" in button["confirm"]["text"]["text"]


def test_a_trader_with_nothing_sees_the_empty_state() -> None:
    view = home_view("U123", [], [], {})
    text = all_text(view)
    assert "No trades yet." in text and "New trade" in text
    assert not any(t.startswith("```") for t in texts_of(view["blocks"]))


def test_many_positions_stay_within_block_kit_limits() -> None:
    positions = [holding(f"S{chr(65 + i // 26)}{chr(65 + i % 26)}", str(i + 1), "10.5") for i in range(300)]
    view = home_view("U123", positions, [], {p.symbol: Decimal("11") for p in positions})
    assert_within_block_kit_limits(view["blocks"], 100)
    assert len(table_rows(view)) == 300
    assert "*Unrealized P&amp;L:*\n+$22,575.00" in all_text(view)  # 0.5 × (1 + … + 300)


class FakeSlack:
    """Records the Web API calls made on it."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    async def views_publish(self, **arguments: Any) -> dict[str, Any]:
        self.published.append(arguments)
        return {"ok": True}


async def test_publish_home_gathers_positions_trades_and_prices_of_held_symbols() -> None:
    store = MemoryTradeStore()
    for position in (LONG, SHORT, CLOSED):
        written = await store.apply_position(position, 0, audit(uuid.uuid4(), POSITION_GUARD))
        assert written.value == "applied"
    trades = [pending(a_trade(submitted_at=NOW + timedelta(seconds=i))) for i in range(12)]
    for record in trades:
        await store.put_new_trade(record, [])
    asked: list[str] = []

    async def prices(symbol: str) -> Decimal | None:
        asked.append(symbol)
        if symbol == "TSLA":
            raise ConnectionError("no quote")
        return Decimal("151.10")

    slack = FakeSlack()
    await publish_home(slack, store, prices, "U123")  # type: ignore[arg-type]

    assert sorted(asked) == ["AAPL", "TSLA"]  # held symbols only
    (call,) = slack.published
    assert call["user_id"] == "U123"
    view = call["view"]
    assert table_rows(view)["AAPL"][2:4] == ["$151.10", "+$104.77"]
    assert table_rows(view)["TSLA"][2:4] == ["—", "—"]
    lines = [block["elements"][0]["text"] for block in view["blocks"] if block["type"] == "context"]
    trade_lines = [line for line in lines if line.startswith("⏳ Pending")]
    assert len(trade_lines) == 10  # the ten most recent


async def test_a_slow_price_does_not_hold_the_home_back() -> None:
    store = MemoryTradeStore()
    await store.apply_position(LONG, 0, audit(uuid.uuid4(), POSITION_GUARD))

    async def never(symbol: str) -> Decimal | None:
        await asyncio.Event().wait()
        return None

    slack = FakeSlack()
    publishing = publish_home(slack, store, never, "U123", price_timeout_s=0.01)  # type: ignore[arg-type]
    await asyncio.wait_for(publishing, timeout=5)
    assert table_rows(slack.published[0]["view"])["AAPL"][2] == "—"
