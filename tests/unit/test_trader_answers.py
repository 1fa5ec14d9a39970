"""`/trade orders` and `/trade positions`: the trader's own, in words a trader reads; told when unreadable."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import msgspec

from messages.records import Position, TradeRecord
from tests.contract.builders import a_trade, executed, pending, position, working
from workers.slack import trader_answers
from workers.slack.trader_answers import answer


class Shelf:
    """The three reads the answers make, over fixed records."""

    def __init__(self, trades: list[TradeRecord], positions: list[Position], *, down: bool = False) -> None:
        self.trades, self.positions, self.down = trades, positions, down

    async def list_open_trades(self, statuses: Any, limit: int = 500) -> list[TradeRecord]:
        self._maybe_down()
        return [t for t in self.trades if t.status in statuses][:limit]

    async def list_user_trades(self, user_id: str, limit: int = 10) -> list[TradeRecord]:
        self._maybe_down()
        return [t for t in self.trades if t.user_id == user_id][:limit]

    async def list_positions(self, user_id: str) -> list[Position]:
        self._maybe_down()
        return [p for p in self.positions if p.user_id == user_id]

    def _maybe_down(self) -> None:
        if self.down:
            raise ConnectionError("DynamoDB is down")


async def no_price(symbol: str) -> Decimal | None:
    return None


async def price_200(symbol: str) -> Decimal | None:
    return Decimal(200)


async def test_orders_lists_the_traders_working_orders_then_their_recent_trades() -> None:
    resting = working(pending(a_trade(symbol="MSFT", order_type="limit", limit_price=Decimal(300))), "2")
    done = executed(pending(a_trade()))
    theirs = working(pending(a_trade(user_id="U456")))
    text = await answer("orders", Shelf([resting, done, theirs], []), no_price, "U123")  # type: ignore[arg-type]

    lines = text.splitlines()
    assert lines[0] == "*Your working orders*"
    assert lines[1].startswith("• BUY 10 MSFT limit 300 day · working, filled 2 · `")
    assert lines[2] == "*Recent trades*"
    assert f"executed, filled 10 at $150.0523 via simulation · `{done.trade_id}`" in lines[3]
    assert str(theirs.trade_id) not in text and len(lines) == 4


async def test_orders_carry_a_cancel_button_for_each_of_the_traders_working_orders_only() -> None:
    resting = working(pending(a_trade(symbol="MSFT", order_type="limit", limit_price=Decimal(300))))
    done = executed(pending(a_trade()))
    theirs = working(pending(a_trade(user_id="U456")))
    shelf = Shelf([resting, done, theirs], [])
    text, blocks = await trader_answers.answer_with_buttons("orders", shelf, no_price, "U123")  # type: ignore[arg-type]

    section, actions = blocks
    assert section["text"]["text"] == text
    [button] = actions["elements"]
    assert (button["action_id"], button["value"]) == ("cancel_order", str(resting.trade_id))
    assert button["text"]["text"] == "Cancel BUY 10 MSFT"
    _, none = await trader_answers.answer_with_buttons("orders", Shelf([done], []), no_price, "U123")  # type: ignore[arg-type]
    assert none == []


async def test_positions_show_the_last_price_and_both_pnls_and_go_without_a_price() -> None:
    held = msgspec.structs.replace(position(a_trade().trade_id, "10"), realized_pnl=Decimal("12.5"))
    shelf = Shelf([], [held])

    priced = await answer("positions", shelf, price_200, "U123")  # type: ignore[arg-type]
    assert priced == (
        "*Your positions*\n• AAPL 10 @ $150.05 avg · last $200.00 · value +$2,000.00 · unrealized +$499.48 "
        "· realized +$12.50"
    )
    unpriced = await answer("positions", shelf, no_price, "U123")  # type: ignore[arg-type]
    assert unpriced == "*Your positions*\n• AAPL 10 @ $150.05 avg · realized +$12.50"
    assert await answer("positions", Shelf([], []), no_price, "U123") == "You hold no positions."  # type: ignore[arg-type]


async def test_a_store_down_or_slow_is_told_and_never_raised(monkeypatch: Any) -> None:
    down = Shelf([], [], down=True)
    assert await answer("orders", down, no_price, "U123") == (  # type: ignore[arg-type]
        "I can't read your orders right now: try again in a moment, or open tradeflow's App Home."
    )

    class Slow(Shelf):
        async def list_positions(self, user_id: str) -> list[Position]:
            await asyncio.sleep(1)
            return []

    monkeypatch.setattr(trader_answers, "ANSWER_TIMEOUT_S", 0.05)
    assert (await answer("positions", Slow([], []), no_price, "U123")).startswith(  # type: ignore[arg-type]
        "I can't read your positions right now"
    )


ACCOUNT = {
    "read": True,
    "account_number": "PA1234",
    "status": "ACTIVE",
    "cash": "98500.00",
    "buying_power": "197000.00",
    "equity": "100250.50",
    "last_equity": "100000.00",
    "change_today": "250.50",
    "change_today_pct": "0.25",
}


async def test_the_account_shows_a_trader_its_figures_and_an_operator_which_account_too() -> None:
    async def read(account: str | None) -> dict[str, Any]:
        return ACCOUNT

    trader = await trader_answers.account_answer(read, operator=False)
    operator = await trader_answers.account_answer(read, operator=True)

    assert "Cash $98,500.00 · Buying power $197,000.00" in trader
    assert "Equity $100,250.50 · Today +$250.50 (0.25 %)" in trader
    assert "PA1234" not in trader and "Account PA1234 · ACTIVE" in operator


async def test_the_account_unreadable_or_absent_is_said_plainly() -> None:
    async def down(account: str | None) -> dict[str, Any]:
        raise ConnectionError("refused")

    async def disabled(account: str | None) -> dict[str, Any]:
        return {"read": False, "why": "Alpaca is disabled: the paper guard failed"}

    assert "right now" in await trader_answers.account_answer(down, operator=False)
    assert "paper guard failed" in await trader_answers.account_answer(disabled, operator=False)
    assert "simulation" in await trader_answers.account_answer(None, operator=False)
