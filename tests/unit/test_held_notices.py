"""A trade held before it was recorded: the trader hears it is delayed, or that it was not executed, once,
with no record to lean on, and never after the trade went on after all."""

from __future__ import annotations

import uuid
from pathlib import Path

from messages.events import TradeHeld
from messages.records import TradeRecord, pending_record
from tests.unit.fakes import NOW, FakeNotifier, make_deps, trade
from workers.handlers.notification import notify_trader
from workers.notify.log import LogNotifier
from workers.notify.templates import held_text
from workers.slack.blocks import outcome_message
from workers.slack.views import outcome_view
from workers.store.memory.store import MemoryTradeStore
from workers.store.port import StoreUnavailable


def held(state: str = "delayed", **overrides: object) -> TradeHeld:
    return TradeHeld(
        trade=trade(**overrides),
        state="delayed" if state == "delayed" else "not_executed",
        reason="StoreUnavailable: DynamoDB throttled",
        stage="validation",
        held_at=NOW,
    )


class StoreDown(MemoryTradeStore):
    async def get_trade(self, trade_id: uuid.UUID) -> TradeRecord | None:
        raise StoreUnavailable("DynamoDB is not answering")


def test_a_trade_not_executed_is_told_in_the_seeds_failure_layout_and_a_delay_as_a_delay() -> None:
    not_executed = held_text(held("not_executed"))
    assert not_executed.startswith("❌ Trade Execution Failed\n")
    assert "• Error: Not executed\n• Error Code: NOT_EXECUTED" in not_executed
    assert "Nothing reached Alpaca" in not_executed.split("💡 Next Steps:")[1]
    delayed = held_text(held("delayed"))
    assert delayed.startswith("⏳ Trade Delayed\n") and "goes on by itself" in delayed
    blocks, text = outcome_message(held("not_executed"))
    assert blocks[0]["text"]["text"] == "❌ Trade Execution Failed" and "NOT_EXECUTED" in text
    assert outcome_view(held("delayed"))["title"]["text"] == "Trade Delayed"


async def test_a_held_trade_is_told_once_even_with_the_store_down() -> None:
    notifier = FakeNotifier()
    deps = make_deps(store=StoreDown(), notifier=notifier)
    notice = held("delayed")
    await notify_trader(notice, deps)
    await notify_trader(notice, deps)  # redelivered: the channel already holds it
    assert notifier.sent == [notice]
    not_executed = held("not_executed", trade_id=notice.trade.trade_id)
    await notify_trader(not_executed, deps)  # another fact: told too
    assert notifier.sent == [notice, not_executed]


async def test_a_held_notice_about_a_trade_recorded_after_all_is_not_sent() -> None:
    deps = make_deps()
    notice = held("not_executed")
    record = pending_record(notice.trade, recorded_at=NOW, expires_at=2_000_000_000)
    assert await deps.store.put_new_trade(record, []) is None
    await notify_trader(notice, deps)
    assert deps.notifier.sent == []  # type: ignore[attr-defined]


async def test_the_log_notifiers_outbox_tells_each_notice_of_a_trade_apart(tmp_path: Path) -> None:
    outbox = LogNotifier(tmp_path / "notifications.log")
    delayed = held("delayed")
    not_executed = held("not_executed", trade_id=delayed.trade.trade_id)
    await outbox.notify(delayed)
    assert await outbox.already_told(delayed) and not await outbox.already_told(not_executed)
    await outbox.notify(not_executed)
    assert await outbox.already_told(not_executed)
