"""SlackNotifier on the Slack emulator: DM, modal and App Home over real HTTP, and Slack's faults."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator
from messages.events import PositionUpdated, TradeFailed
from messages.records import Position
from messages.trade import Execution, ExecutionError, TradeRequest
from tests.contract.builders import POSITION_GUARD, audit
from tests.unit.fakes import trade
from tests.waiting import eventually
from workers.handlers.ports import NotifierUnavailable, Outcome
from workers.slack.blocks import outcome_message
from workers.slack.notifier import SlackNotifier, SlackRefused
from workers.slack.views import submitting_view
from workers.store.memory.store import MemoryTradeStore

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
TRADER = "U0TRADER1"


async def last_price(symbol: str) -> Decimal | None:
    return Decimal("151.10")


@pytest.fixture
async def store() -> MemoryTradeStore:
    trade_store = MemoryTradeStore()
    position = Position(
        user_id=TRADER, symbol="AAPL", quantity=Decimal(100), average_cost=Decimal("150.0523"), updated_at=NOW
    )
    await trade_store.apply_position(position, 0, audit(uuid.uuid4(), POSITION_GUARD))
    return trade_store


_OPENED: list[SlackNotifier] = []


@pytest.fixture(autouse=True)
async def _close_notifiers() -> AsyncIterator[None]:
    """Each notifier keeps an HTTP session: the test's are closed after it."""
    yield
    while _OPENED:
        await _OPENED.pop().close()


def notifier_on(emulator: SlackEmulator, store: MemoryTradeStore, token: str | None = None) -> SlackNotifier:
    notifier = SlackNotifier.open(
        token=token or emulator.bot_token, base_url=emulator.api_url, store=store, prices=last_price
    )
    _OPENED.append(notifier)
    return notifier


async def submitted_trade(emulator: SlackEmulator) -> TradeRequest:
    """A trade whose modal is open and says "Submitting…", as the ingress leaves it."""
    draft = trade(user_id=TRADER, quantity=Decimal(100))
    client = AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url)
    trigger_id = emulator.admin.mint_trigger(TRADER)
    opened = await client.views_open(trigger_id=trigger_id, view=submitting_view(draft))
    return msgspec.structs.replace(draft, slack_view_id=opened["view"]["id"])


def executed(t: TradeRequest) -> PositionUpdated:
    execution = Execution(
        execution_id=uuid.uuid4(),
        execution_method="alpaca",
        execution_price=Decimal("150.05"),
        filled_quantity=t.quantity,
        execution_timestamp=NOW,
        execution_time_ms=Decimal("1250.5"),
        reference_price=Decimal("150.00"),
        slippage_bps=Decimal("3.33"),
        market_impact_bps=Decimal("0.5"),
        alpaca_order_id="alpaca_order_456",
    )
    position = Position(
        user_id=t.user_id, symbol=t.symbol, quantity=t.quantity, average_cost=Decimal("150.05")
    )
    return PositionUpdated(trade=t, execution=execution, position=position)


def failed(t: TradeRequest) -> TradeFailed:
    error = ExecutionError(code="MARKET_CLOSED", message="Market is closed")
    return TradeFailed(trade=t, error=error, failed_at=NOW)


def dms(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return emulator.admin.messages(user=TRADER)


def answers(emulator: SlackEmulator, method: str) -> list[str]:
    """Slack's `error` (or "ok") for each call of `method`, in order."""
    return [
        "ok" if (call.get("response") or {}).get("ok") else str((call.get("response") or {}).get("error"))
        for call in emulator.admin.calls(method)
    ]


async def test_the_trader_gets_the_dm_the_modal_shows_the_outcome_and_home_is_redrawn(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    submitted = await submitted_trade(slack_emulator)
    event: Outcome = executed(submitted)
    await notifier_on(slack_emulator, store).notify(event)

    (dm,) = dms(slack_emulator)
    blocks, text = outcome_message(event)
    assert dm["text"] == text
    assert [block["type"] for block in dm["blocks"]] == [block["type"] for block in blocks]
    assert "Alpaca Order ID" in str(dm["blocks"]) and str(submitted.trade_id) in str(dm["blocks"])

    modal = slack_emulator.admin.view(str(submitted.slack_view_id))
    assert modal["status"] == "open"
    assert modal["view"]["title"]["text"] == "Trade Executed"
    assert "✅ Trade Executed Successfully" in str(modal["view"]["blocks"])

    (home,) = slack_emulator.admin.home_views(TRADER)
    shown = str(home)
    assert "AAPL" in shown and "+$104.77" in shown  # (151.10 − 150.0523) × 100


async def test_a_closed_modal_is_not_an_error(slack_emulator: SlackEmulator, store: MemoryTradeStore) -> None:
    submitted = await submitted_trade(slack_emulator)
    slack_emulator.admin.close_view(str(submitted.slack_view_id))
    await notifier_on(slack_emulator, store).notify(failed(submitted))
    assert len(dms(slack_emulator)) == 1
    assert answers(slack_emulator, "views.update") == ["not_found"]
    assert answers(slack_emulator, "views.publish") == ["ok"]


async def test_a_rate_limited_dm_waits_retry_after_and_is_sent_once(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    slack_emulator.admin.rate_limit("chat.postMessage", times=1, retry_after_s=1)
    await notifier_on(slack_emulator, store).notify(failed(trade(user_id=TRADER)))
    assert answers(slack_emulator, "chat.postMessage") == ["ratelimited", "ok"]
    assert len(dms(slack_emulator)) == 1


async def test_a_dm_still_rate_limited_after_the_retries_is_unavailable(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    slack_emulator.admin.rate_limit("chat.postMessage", times=10, retry_after_s=1)
    with pytest.raises(NotifierUnavailable):
        await notifier_on(slack_emulator, store).notify(failed(trade(user_id=TRADER)))
    assert dms(slack_emulator) == []
    assert answers(slack_emulator, "views.publish") == []  # retried whole by the queue


async def test_a_long_retry_after_is_left_to_the_queue(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    slack_emulator.admin.rate_limit("chat.postMessage", times=1, retry_after_s=60)
    with pytest.raises(NotifierUnavailable):
        await asyncio.wait_for(notifier_on(slack_emulator, store).notify(failed(trade(user_id=TRADER))), 10)
    assert answers(slack_emulator, "chat.postMessage") == ["ratelimited"]


@pytest.mark.parametrize("status", [500, 503])
async def test_a_dm_answered_with_a_server_error_is_unavailable(
    slack_emulator: SlackEmulator, store: MemoryTradeStore, status: int
) -> None:
    slack_emulator.admin.add_fault("http_error", status=status, method="chat.postMessage")
    with pytest.raises(NotifierUnavailable):
        await notifier_on(slack_emulator, store).notify(failed(trade(user_id=TRADER)))
    assert dms(slack_emulator) == []


async def test_a_dm_slower_than_its_deadline_is_unavailable(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    slack_emulator.admin.add_fault("slow", delay_s=3, method="chat.postMessage")
    notifier = notifier_on(slack_emulator, store)
    notifier.dm_deadline_s = 0.5
    with pytest.raises(NotifierUnavailable) as raised:
        await notifier.notify(failed(trade(user_id=TRADER)))
    # Slack may still deliver a message whose answer came too late: the notice is not surely unsent, so
    # the handler keeps its lease and its successor reads the DM history before sending again.
    assert raised.value.surely_unsent is False
    eventually(lambda: len(dms(slack_emulator)) == 1, timeout=10)


async def test_a_refused_dm_raises_slack_refused_and_still_shows_the_outcome_in_the_modal(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    submitted = await submitted_trade(slack_emulator)
    slack_emulator.admin.add_fault("api_error", error="channel_not_found", method="chat.postMessage")
    with pytest.raises(SlackRefused) as refused:
        await notifier_on(slack_emulator, store).notify(failed(submitted))
    assert refused.value.error == "channel_not_found"
    modal = slack_emulator.admin.view(str(submitted.slack_view_id))
    assert modal["view"]["title"]["text"] == "Trade Failed"


async def test_a_wrong_token_is_refused_as_invalid_auth(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    with pytest.raises(SlackRefused) as refused:
        await notifier_on(slack_emulator, store, token="xoxb-wrong").notify(failed(trade(user_id=TRADER)))
    assert refused.value.error == "invalid_auth"


async def test_failed_modal_and_home_updates_do_not_fail_the_notification(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    submitted = await submitted_trade(slack_emulator)
    slack_emulator.admin.add_fault("http_error", status=503, method="views.*", times=None)
    await notifier_on(slack_emulator, store).notify(failed(submitted))
    assert len(dms(slack_emulator)) == 1
    assert slack_emulator.admin.view(str(submitted.slack_view_id))["view"]["title"]["text"] == "Submitting…"


async def test_a_burst_of_notifications_to_one_trader_all_arrive(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    slack_emulator.admin.configure(post_burst=1, post_per_s=2)
    notifier = notifier_on(slack_emulator, store)
    for _ in range(3):
        await notifier.notify(failed(trade(user_id=TRADER)))
    assert len(dms(slack_emulator)) == 3


async def test_a_posted_notice_is_found_again_by_its_metadata_and_no_other_is(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    notifier = notifier_on(slack_emulator, store)
    told, other = trade(user_id=TRADER), trade(user_id=TRADER)
    assert await notifier.already_told(executed(told)) is False

    await notifier.notify(executed(told))

    assert await notifier.already_told(executed(told)) is True
    assert await notifier.already_told(failed(told)) is True  # one outcome notice per trade, whatever it says
    assert await notifier.already_told(executed(other)) is False
    (dm,) = dms(slack_emulator)
    assert dm["metadata"]["event_payload"] == {"trade_id": str(told.trade_id), "notice": "outcome"}


async def test_an_unreadable_history_is_unavailable_never_not_told(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    slack_emulator.admin.add_fault("http_error", status=500, method="conversations.history", times=5)
    with pytest.raises(NotifierUnavailable):
        await notifier_on(slack_emulator, store).already_told(executed(trade(user_id=TRADER)))


async def test_a_post_whose_connection_dropped_is_not_resent_and_is_found_in_the_history(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    slack_emulator.admin.add_fault("drop_connection", method="chat.postMessage", phase="after")
    notifier, event = notifier_on(slack_emulator, store), failed(trade(user_id=TRADER))
    with pytest.raises(NotifierUnavailable) as raised:
        await notifier.notify(event)
    assert raised.value.surely_unsent is False
    assert len(dms(slack_emulator)) == 1  # slack-sdk's connection-error retry did not post it twice
    assert await notifier.already_told(event) is True


async def test_an_ambiguous_post_is_unavailable_and_found_in_the_history(
    slack_emulator: SlackEmulator, store: MemoryTradeStore
) -> None:
    slack_emulator.admin.ambiguous_post()
    notifier, event = notifier_on(slack_emulator, store), executed(trade(user_id=TRADER))
    notifier.dm_deadline_s = 1.0
    with pytest.raises(NotifierUnavailable) as raised:
        await notifier.notify(event)
    assert raised.value.surely_unsent is False
    (dm,) = dms(slack_emulator)
    assert dm["answer_lost"] == "no_answer"
    assert await notifier.already_told(event) is True


async def test_a_post_that_never_connected_is_surely_unsent(store: MemoryTradeStore) -> None:
    notifier = SlackNotifier.open(
        token="xoxb-test", base_url="http://127.0.0.1:9/api/", store=store, prices=last_price
    )
    _OPENED.append(notifier)
    with pytest.raises(NotifierUnavailable) as raised:
        await notifier.notify(failed(trade(user_id=TRADER)))
    assert raised.value.surely_unsent is True
