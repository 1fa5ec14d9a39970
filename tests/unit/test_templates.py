"""The seed's messages carry every field the seed lists."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from messages.events import PositionUpdated, TradeFailed, TradeRejected
from messages.records import Position
from messages.trade import Execution, ExecutionError, Rejection
from tests.unit.fakes import trade
from workers.notify.templates import failure_text, rejection_text, success_text

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def _execution(**overrides: object) -> Execution:
    values: dict[str, object] = {
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
    return Execution(**values)  # type: ignore[arg-type]


def test_success_lists_the_seeds_fields() -> None:
    t = trade(quantity=Decimal(100))
    text = success_text(
        PositionUpdated(trade=t, execution=_execution(), position=Position(user_id="U123", symbol="AAPL"))
    )
    for expected in (
        "✅ Trade Executed Successfully",
        "• Symbol: AAPL",
        "• Type: BUY",
        "• Quantity: 100 shares",
        f"• Trade ID: {t.trade_id}",
        "• Method: 🧪 Alpaca Paper Trading",
        "• Alpaca Order ID: alpaca_order_456",
        "• Execution Price: $150.05",
        "• Execution Time: 1.3s",
        "• Slippage: 3.33 bps",
        "App Home",
    ):
        assert expected in text


def test_a_simulated_fill_says_so_and_a_fast_one_shows_milliseconds() -> None:
    execution = _execution(
        execution_method="simulation", alpaca_order_id=None, execution_time_ms=Decimal("25.3")
    )
    text = success_text(
        PositionUpdated(trade=trade(), execution=execution, position=Position(user_id="U123", symbol="AAPL"))
    )
    assert "Simulation" in text and "Alpaca Order ID" not in text and "25 ms" in text


def test_failure_lists_error_code_and_next_steps_with_the_trade_id() -> None:
    t = trade()
    text = failure_text(
        TradeFailed(
            trade=t, error=ExecutionError(code="MARKET_CLOSED", message="Market is closed"), failed_at=NOW
        )
    )
    for expected in (
        "❌ Trade Execution Failed",
        "• Error: Market is closed",
        "• Error Code: MARKET_CLOSED",
        "💡 Next Steps:",
        "• Check market hours and try again",
        "• Contact support if the issue persists",
        f"• Reference Trade ID: {t.trade_id}",
    ):
        assert expected in text


def test_a_rejection_says_what_to_change() -> None:
    reason = Rejection(field="symbol", code="SYMBOL_NOT_ALLOWED", message="GME is not on the tradable list.")
    text = rejection_text(TradeRejected(trade=trade(), reasons=(reason,), rejected_at=NOW))
    assert "GME is not on the tradable list." in text and "SYMBOL_NOT_ALLOWED" in text
