"""The seed's messages as Block Kit: every field of the seed, the text fallback, and Block Kit's limits."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from messages.events import PositionUpdated, TradeFailed, TradeRejected, TradeWorking
from messages.records import Position
from messages.trade import Execution, ExecutionError, Fill, Rejection, TradeRequest
from tests.unit.fakes import trade
from workers.handlers.ports import Outcome
from workers.notify.templates import failure_text, rejection_text, success_text, working_text
from workers.slack.blocks import (
    failure_message,
    outcome_message,
    rejection_message,
    success_message,
    working_message,
)
from workers.slack.views import outcome_view, submitting_view

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def execution(**overrides: Any) -> Execution:
    values: dict[str, Any] = {
        "execution_id": uuid.uuid4(),
        "execution_method": "alpaca",
        "execution_price": Decimal("150.05"),
        "filled_quantity": Decimal(100),
        "execution_timestamp": NOW,
        "execution_time_ms": Decimal("1250.5"),
        "reference_price": Decimal("150.00"),
        "slippage_bps": Decimal("3.33"),
        "market_impact_bps": Decimal("0.5"),
        "alpaca_order_id": "alpaca_order_456",
    }
    values.update(overrides)
    return Execution(**values)


def executed(t: TradeRequest | None = None, **overrides: Any) -> PositionUpdated:
    t = t or trade(quantity=Decimal(100))
    position = Position(
        user_id=t.user_id, symbol=t.symbol, quantity=Decimal(100), average_cost=Decimal("150.05")
    )
    return PositionUpdated(trade=t, execution=execution(**overrides), position=position)


def failed(message: str = "Market is closed", **overrides: Any) -> TradeFailed:
    error = ExecutionError(code="MARKET_CLOSED", message=message, **overrides)
    return TradeFailed(trade=trade(quantity=Decimal(100)), error=error, failed_at=NOW)


def rejected(*reasons: Rejection) -> TradeRejected:
    reasons = reasons or (
        Rejection(field="symbol", code="SYMBOL_NOT_TRADABLE", message="GME is not on the tradable list."),
        Rejection(field="quantity", code="QUANTITY_TOO_LARGE", message="At most 1000 shares."),
    )
    return TradeRejected(trade=trade(quantity=Decimal(100)), reasons=reasons, rejected_at=NOW)


def working(state: str = "working") -> TradeWorking:
    t = trade(quantity=Decimal(100), order_type="limit", limit_price=Decimal("149.50"))
    fills = (Fill(quantity=Decimal(30), price=Decimal("149.50"), timestamp=NOW),)
    return TradeWorking(trade=t, state=state, alpaca_order_id="alpaca_order_789", fills=fills)  # type: ignore[arg-type]


def fields_of(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """Every section field as label -> value, formatting removed."""
    found: dict[str, str] = {}
    for block in blocks:
        for element in block.get("fields", []):
            label, value = element["text"].split("\n", 1)
            found[label.strip("*").rstrip(":")] = value.strip("`")
    return found


def texts_of(value: Any) -> list[str]:
    """Every text string anywhere in a block structure."""
    if isinstance(value, dict):
        own = [value["text"]] if isinstance(value.get("text"), str) else []
        return own + [
            t for key, v in value.items() if key != "text" or not isinstance(v, str) for t in texts_of(v)
        ]
    if isinstance(value, list):
        return [t for element in value for t in texts_of(element)]
    return []


def rendered(blocks: list[dict[str, Any]]) -> str:
    """The blocks' text as a reader sees it: no bold or code marks, a field's label and value on one line."""
    return "\n".join(texts_of(blocks)).replace("*", "").replace("`", "").replace(":\n", ": ")


ALL_OUTCOMES: list[Outcome] = [
    executed(),
    executed(execution_method="simulation", alpaca_order_id=None, execution_time_ms=Decimal("25.3")),
    failed(),
    failed(execution_method="alpaca", alpaca_order_id="alpaca_order_1", next_steps=("Wait for the open",)),
    rejected(),
    working("working"),
    working("unknown"),
    executed(
        trade(quantity=Decimal(5), order_type="stop_limit", limit_price=Decimal(10), stop_price=Decimal(9))
    ),
]


def test_success_via_alpaca_carries_every_seed_field() -> None:
    event = executed()
    blocks, text = success_message(event)
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "✅ Trade Executed Successfully", "emoji": True},
    }
    assert fields_of(blocks) == {
        "Symbol": "AAPL",
        "Type": "BUY",
        "Quantity": "100 shares",
        "Trade ID": str(event.trade.trade_id),
        "Method": "🧪 Alpaca Paper Trading",
        "Alpaca Order ID": "alpaca_order_456",
        "Execution Price": "$150.05",
        "Execution Time": "1.3s",
        "Slippage": "3.33 bps",
        "Position": "100 AAPL @ $150.05 avg",
    }
    assert "Trade Details" in rendered(blocks) and "Execution Details" in rendered(blocks)
    assert "📊 Check your portfolio in the App Home tab for updated positions." in rendered(blocks)
    assert text == success_text(event)


def test_a_simulated_success_says_so_and_has_no_alpaca_order_id() -> None:
    event = executed(execution_method="simulation", alpaca_order_id=None, execution_time_ms=Decimal("25.3"))
    blocks, text = success_message(event)
    fields = fields_of(blocks)
    assert fields["Method"] == "🎲 Simulation"
    assert fields["Execution Time"] == "25 ms"
    assert "Alpaca Order ID" not in fields and "Alpaca Order ID" not in text
    assert "🎲 Simulation" in text


def test_failure_carries_the_error_its_code_and_next_steps_with_the_trade_id() -> None:
    event = failed()
    blocks, text = failure_message(event)
    assert blocks[0]["text"]["text"] == "❌ Trade Execution Failed"
    fields = fields_of(blocks)
    assert fields["Error"] == "Market is closed"
    assert fields["Error Code"] == "MARKET_CLOSED"
    assert (fields["Symbol"], fields["Type"], fields["Quantity"]) == ("AAPL", "BUY", "100 shares")
    assert fields["Trade ID"] == str(event.trade.trade_id)
    steps = rendered(blocks).split("💡 Next Steps:", 1)[1]
    for expected in (
        "• Check market hours and try again",
        "• Contact support if the issue persists",
        f"• Reference Trade ID: {event.trade.trade_id}",
    ):
        assert expected in steps
    assert text == failure_text(event)


def test_a_failure_after_an_alpaca_order_names_the_method_and_the_order() -> None:
    event = failed(
        execution_method="alpaca", alpaca_order_id="alpaca_order_1", next_steps=("Wait for the open",)
    )
    blocks, _ = failure_message(event)
    fields = fields_of(blocks)
    assert fields["Method"] == "🧪 Alpaca Paper Trading"
    assert fields["Alpaca Order ID"] == "alpaca_order_1"
    assert "• Wait for the open" in rendered(blocks)
    assert "Check market hours" not in rendered(blocks)


def test_a_rejection_lists_each_reason_with_its_code_and_next_step() -> None:
    event = rejected()
    blocks, text = rejection_message(event)
    assert blocks[0]["text"]["text"] == "❌ Trade Execution Failed"
    view = rendered(blocks)
    for expected in (
        "Error: GME is not on the tradable list.",
        "Error Code: SYMBOL_NOT_TRADABLE",
        "Error: At most 1000 shares.",
        "Error Code: QUANTITY_TOO_LARGE",
        "• Pick a symbol that is tradable at the stock broker",
        "• Fix the fields above and submit again",
        f"• Reference Trade ID: {event.trade.trade_id}",
    ):
        assert expected in view
    assert text == rejection_text(event)


@pytest.mark.parametrize(
    ("state", "title"),
    [("working", "🕐 Order Accepted, Working"), ("unknown", "⏳ Order Status Being Confirmed")],
)
def test_a_working_order_says_what_happens_next(state: str, title: str) -> None:
    event = working(state)
    blocks, text = working_message(event)
    assert blocks[0]["text"]["text"] == title
    fields = fields_of(blocks)
    assert fields["Order"] == "limit (limit $149.50), day"
    assert fields["Alpaca Order ID"] == "alpaca_order_789"
    assert fields["Filled so far"] == "30 of 100 shares"
    assert fields["Reference Trade ID"] == str(event.trade.trade_id)
    assert text == working_text(event)


@pytest.mark.parametrize("event", ALL_OUTCOMES, ids=lambda e: type(e).__name__)
def test_every_line_of_the_text_fallback_is_in_the_blocks(event: Outcome) -> None:
    blocks, text = outcome_message(event)
    view = rendered(blocks)
    for line in filter(None, text.splitlines()):
        assert line.removeprefix("• ").rstrip(":") in view


def test_text_from_outside_is_escaped_for_mrkdwn() -> None:
    event = failed("Refused <!channel> & <@U1>: bad order")
    blocks, text = failure_message(event)
    assert fields_of(blocks)["Error"] == "Refused &lt;!channel&gt; &amp; &lt;@U1&gt;: bad order"
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def assert_within_block_kit_limits(blocks: list[dict[str, Any]], max_blocks: int) -> None:
    assert 0 < len(blocks) <= max_blocks
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert "text" in block or block.get("fields")
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
        for text in texts_of(block):
            assert not re.search(r"&(?!amp;|lt;|gt;)", text.replace("&amp;", "")), "a cut escape"


@pytest.mark.parametrize("event", ALL_OUTCOMES, ids=lambda e: type(e).__name__)
def test_every_message_and_view_stays_within_block_kit_limits(event: Outcome) -> None:
    blocks, _ = outcome_message(event)
    assert_within_block_kit_limits(blocks, 50)
    view = outcome_view(event)
    assert_within_block_kit_limits(view["blocks"], 100)
    assert len(view["title"]["text"]) <= 24 and len(view["close"]["text"]) <= 24


def test_huge_and_many_values_are_clipped_to_the_limits() -> None:
    huge = failed("<&>" * 5000, alpaca_order_id="x" * 5000, next_steps=tuple("step" * 300 for _ in range(5)))
    blocks, _ = failure_message(huge)
    assert_within_block_kit_limits(blocks, 50)
    assert fields_of(blocks)["Error"].endswith("…")

    many = rejected(*(Rejection(field="f", code=f"CODE_{i}", message="m" * 3000) for i in range(60)))
    blocks, text = rejection_message(many)
    assert_within_block_kit_limits(blocks, 50)
    assert "…and 40 more reasons" in rendered(blocks)
    assert "CODE_59" in text  # the text fallback keeps them all


def test_the_submitting_modal_says_the_trade_is_being_executed() -> None:
    t = trade(quantity=Decimal(100))
    view = submitting_view(t)
    assert view["type"] == "modal"
    assert view["title"]["text"] == "Submitting…"
    assert view["close"] == {"type": "plain_text", "text": "Close", "emoji": True}
    assert "submit" not in view  # nothing to submit again
    assert view["private_metadata"] == str(t.trade_id)
    text = rendered(view["blocks"])
    assert "Submitting…" in text and "BUY 100 shares of AAPL is being executed" in text
    assert f"Trade ID: {t.trade_id}" in text
    assert_within_block_kit_limits(view["blocks"], 100)


@pytest.mark.parametrize(
    ("event", "title"),
    [
        (executed(), "Trade Executed"),
        (failed(), "Trade Failed"),
        (rejected(), "Trade Rejected"),
        (working("working"), "Order Working"),
        (working("unknown"), "Order Being Confirmed"),
    ],
)
def test_the_modal_is_updated_to_the_outcome_message(event: Outcome, title: str) -> None:
    view = outcome_view(event)
    assert view["type"] == "modal"
    assert view["title"]["text"] == title
    assert view["close"]["text"] == "Close"
    assert "submit" not in view
    assert view["blocks"] == outcome_message(event)[0]
    assert view["private_metadata"] == str(event.trade.trade_id)
