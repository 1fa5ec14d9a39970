"""One DM per fact through Slack's ambiguous post: the notification stage on SlackNotifier and the emulator.

Slack posts the DM and its answer never comes (the campaign's `slack_ambiguous_dm`). The delivery fails; the
queue's retries find the lease kept (Deferred) until it runs out, then take it over, read the trader's DM
history by the message metadata, find the notice, and record it without posting again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from emulators.slack import SlackEmulator
from messages.events import AnyMessage, PositionUpdated
from tests.unit.fakes import FakeRoles, make_deps, submit
from tests.unit.test_notification_lease import Clock
from tests.waiting import eventually
from workers.chain.routing import next_stage
from workers.chain.stage_handlers import STAGE_HANDLERS as HANDLERS
from workers.handlers.audit import NOTIFIED_KEY
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred
from workers.handlers.notification import NOTIFY_LEASE_MS
from workers.handlers.ports import NotifierUnavailable
from workers.slack.notifier import NOTICE_EVENT, SlackNotifier
from workers.store.memory.store import MemoryTradeStore

TRADER = "U0TRADER1"


async def no_price(symbol: str) -> None:
    return None


@pytest.fixture
async def deps(slack_emulator: SlackEmulator) -> AsyncIterator[Deps]:
    store = MemoryTradeStore()
    notifier = SlackNotifier.open(
        token=slack_emulator.bot_token, base_url=slack_emulator.api_url, store=store, prices=no_price
    )
    notifier.dm_deadline_s = 1.0
    roles = FakeRoles(**{TRADER: {"trader"}})
    yield make_deps(store=store, notifier=notifier, clock=Clock(), roles=roles)
    await notifier.close()


async def outcome_of(deps: Deps) -> PositionUpdated:
    message: AnyMessage | None = submit(user_id=TRADER)
    while message is not None and next_stage(message) != "notifications":
        message = await HANDLERS[next_stage(message)](message, deps)
    assert isinstance(message, PositionUpdated)
    return message


def notices(emulator: SlackEmulator, trade_id: str) -> list[dict[str, object]]:
    return [
        m
        for m in emulator.admin.messages(user=TRADER)
        if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
        and m["metadata"]["event_payload"]["trade_id"] == trade_id
    ]


async def test_an_ambiguous_dm_is_recorded_once_and_never_posted_again(
    slack_emulator: SlackEmulator, deps: Deps
) -> None:
    notice = await outcome_of(deps)
    slack_emulator.admin.ambiguous_post()

    with pytest.raises(NotifierUnavailable):
        await HANDLERS["notifications"](notice, deps)  # posted; the answer never came
    with pytest.raises(Deferred):
        await HANDLERS["notifications"](notice, deps)  # the queue's retry: the lease still runs
    assert isinstance(deps.clock, Clock)
    deps.clock.now += timedelta(milliseconds=NOTIFY_LEASE_MS + 1)
    await HANDLERS["notifications"](notice, deps)  # taken over: the history has it

    assert len(notices(slack_emulator, str(notice.trade.trade_id))) == 1
    # the held call is logged once the emulator sees the client leave
    eventually(lambda: slack_emulator.admin.call_count("chat.postMessage") == 1, timeout=5)
    assert await deps.store.get_audit(notice.trade.trade_id, NOTIFIED_KEY) is not None


async def test_a_dm_refused_before_it_was_processed_is_sent_at_once_by_the_retry(
    slack_emulator: SlackEmulator, deps: Deps
) -> None:
    notice = await outcome_of(deps)
    slack_emulator.admin.rate_limit("chat.postMessage", times=1, retry_after_s=60)  # beyond the wait bound

    with pytest.raises(NotifierUnavailable):
        await HANDLERS["notifications"](notice, deps)
    await HANDLERS["notifications"](notice, deps)  # no Deferred: nothing went out, the lease was freed

    assert len(notices(slack_emulator, str(notice.trade.trade_id))) == 1
