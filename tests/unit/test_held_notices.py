"""A trade held before it was recorded: the trader hears it is delayed, or that it was not executed, once,
with no record to lean on, and never after the trade went on after all."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from brokers.shared_state import MemoryState
from messages.events import TradeHeld
from messages.records import TradeRecord, pending_record
from tests.unit.fakes import NOW, FakeNotifier, make_deps, trade
from workers.handlers.errors import Deferred
from workers.handlers.notification import notify_trader
from workers.handlers.ports import Outcome
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


class SlowPost(FakeNotifier):
    """A post that takes a while to land (a 429 waited out, a slow Slack): the history lacks it meanwhile."""

    async def notify(self, outcome: Outcome) -> None:
        await asyncio.sleep(0.05)
        await super().notify(outcome)


async def test_two_deliveries_of_a_held_notice_at_once_post_it_once_with_the_store_down() -> None:
    # A redelivery (a worker killed, RabbitMQ bounced) runs beside the first delivery, or two TradeHeld of
    # one trade meet: both read a history without the notice. The store is down: no lease in it to take.
    notifier = SlowPost()
    deps = make_deps(store=StoreDown(), notifier=notifier, shared=MemoryState())
    notice = held("delayed")
    results = await asyncio.gather(
        notify_trader(notice, deps), notify_trader(notice, deps), return_exceptions=True
    )
    assert notifier.sent == [notice]
    assert [type(r) for r in results if r is not None] == [Deferred]  # the other comes back later
    with pytest.raises(Deferred):  # ... while the claim lasts (the post may still be landing)
        await notify_trader(notice, deps)
    await notify_trader(notice, replace(deps, shared=MemoryState()))  # the claim ran out: the history
    assert notifier.sent == [notice]
