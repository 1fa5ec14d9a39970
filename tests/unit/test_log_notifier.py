"""The log notifier's outbox: what it wrote can be found again, notice by notice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from messages.events import TradeFailed, TradeWorking
from messages.trade import ExecutionError
from tests.unit.fakes import trade
from workers.notify.log import LogNotifier


async def test_the_outbox_says_which_notices_a_trade_already_has(tmp_path: Path) -> None:
    notifier, told, other = LogNotifier(outbox=tmp_path / "outbox.log"), trade(), trade()
    working = TradeWorking(trade=told, state="working")
    failed = TradeFailed(
        trade=told, error=ExecutionError(code="MARKET_CLOSED", message="closed"), failed_at=datetime.now(UTC)
    )
    assert await notifier.already_told(working) is False

    await notifier.notify(working)

    assert await notifier.already_told(working) is True
    assert await notifier.already_told(failed) is False  # the outcome is another notice
    assert await notifier.already_told(TradeWorking(trade=other, state="working")) is False
    await notifier.notify(failed)
    assert await notifier.already_told(failed) is True
