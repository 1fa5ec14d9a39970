"""A notice that surely did not go out frees its lease, so the retry sends at once; one that may have gone
out (its answer lost: a timeout after Slack posted, a dropped connection, a 5xx) keeps it, and the retry that
takes the lease over reads the DM history before sending again: one DM per fact (issue 13, defect 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from messages.events import AnyMessage, PositionUpdated, SubmitTrade
from tests.unit.fakes import FakeNotifier, make_deps, submit
from workers.chain.routing import next_stage
from workers.chain.stage_handlers import STAGE_HANDLERS as HANDLERS
from workers.handlers.audit import NOTIFIED_KEY
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred
from workers.handlers.notification import NOTIFY_LEASE_MS
from workers.handlers.ports import NoticeRefused, NotifierUnavailable, Outcome
from workers.store.memory.store import MemoryTradeStore
from workers.store.port import StoreUnavailable


class FailingNotifier:
    """Fails its first `failures` notices with `error` before sending anything, then delivers."""

    name = "failing"

    def __init__(self, error: Exception, failures: int = 1) -> None:
        self.error = error
        self.failures = failures
        self.sent: list[Outcome] = []

    async def notify(self, outcome: Outcome) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        self.sent.append(outcome)

    async def already_told(self, outcome: Outcome) -> bool:
        return outcome in self.sent

    async def close(self) -> None:
        return None


class ReleaseRefusingStore(MemoryTradeStore):
    """DynamoDB unreachable just when the lease is given back."""

    async def release_lease(self, name: str, *, claimed_at_ms: int, lease_ms: int) -> bool:
        raise StoreUnavailable("DynamoDB release_lease: EndpointConnectionError")


class Clock:
    """Fixed at the fakes' submission time (tests/unit/fakes.py: NOW), moved on by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def notice_of(command: SubmitTrade, deps: Deps) -> PositionUpdated:
    """Run the chain up to the notifications stage and return the message it would get."""
    message: AnyMessage | None = command
    while message is not None and next_stage(message) != "notifications":
        message = await HANDLERS[next_stage(message)](message, deps)
    assert isinstance(message, PositionUpdated)
    return message


class PostedThenLostNotifier:
    """Slack posts the DM, then its answer is lost (`error`): the trader has the notice, the caller does not
    know it. Nothing fails after the first."""

    name = "posted-then-lost"

    def __init__(self, error: Exception) -> None:
        self.error: Exception | None = error
        self.posted: list[Outcome] = []
        self.history_reads = 0

    async def notify(self, outcome: Outcome) -> None:
        self.posted.append(outcome)
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    async def already_told(self, outcome: Outcome) -> bool:
        self.history_reads += 1
        return outcome in self.posted

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(
    "error",
    [
        NotifierUnavailable("Slack chat.postMessage: ratelimited", surely_unsent=True),
        NotifierUnavailable("Slack unreachable: connection refused", surely_unsent=True),
        NoticeRefused("Slack refused chat.postMessage: channel_not_found"),
    ],
)
async def test_a_notice_that_surely_did_not_go_out_releases_its_lease_so_the_retry_sends_at_once(
    error: Exception,
) -> None:
    notifier = FailingNotifier(error)
    deps = make_deps(notifier=notifier, clock=Clock())
    notice = await notice_of(submit(), deps)

    with pytest.raises(type(error)):
        await HANDLERS["notifications"](notice, deps)
    await HANDLERS["notifications"](notice, deps)  # at once: no Deferred for the lease's 30 s

    assert notifier.sent == [notice]
    assert await deps.store.get_audit(notice.trade.trade_id, NOTIFIED_KEY) is not None


@pytest.mark.parametrize(
    "error",
    [
        NotifierUnavailable("Slack chat.postMessage failed: TimeoutError()"),  # posted, answer too late
        NotifierUnavailable("Slack chat.postMessage failed: ServerDisconnectedError()"),
        NotifierUnavailable("Slack chat.postMessage: internal_error"),
        RuntimeError("notifier bug after the post"),
    ],
)
async def test_a_notice_whose_answer_was_lost_is_not_sent_again(error: Exception) -> None:
    notifier, clock = PostedThenLostNotifier(error), Clock()
    deps = make_deps(notifier=notifier, clock=clock)
    notice = await notice_of(submit(), deps)

    with pytest.raises(type(error)):
        await HANDLERS["notifications"](notice, deps)  # Slack posted it; the answer never came
    with pytest.raises(Deferred):
        await HANDLERS["notifications"](notice, deps)  # the lease is kept: the post may still land
    clock.now += timedelta(milliseconds=NOTIFY_LEASE_MS + 1)
    await HANDLERS["notifications"](notice, deps)  # taken over: the DM history has it

    assert notifier.posted == [notice]  # one DM
    assert notifier.history_reads == 1
    assert await deps.store.get_audit(notice.trade.trade_id, NOTIFIED_KEY) is not None


async def test_a_lost_answer_whose_post_never_landed_is_sent_once_after_reading_the_history() -> None:
    notifier, clock = (
        FailingNotifier(NotifierUnavailable("Slack chat.postMessage failed: TimeoutError()")),
        Clock(),
    )
    deps = make_deps(notifier=notifier, clock=clock)
    notice = await notice_of(submit(), deps)

    with pytest.raises(NotifierUnavailable):
        await HANDLERS["notifications"](notice, deps)
    clock.now += timedelta(milliseconds=NOTIFY_LEASE_MS + 1)
    await HANDLERS["notifications"](notice, deps)

    assert notifier.sent == [notice]


class UnreadableHistoryOnce(PostedThenLostNotifier):
    async def already_told(self, outcome: Outcome) -> bool:
        self.history_reads += 1
        if self.history_reads == 1:
            raise NotifierUnavailable("Slack history unreadable", surely_unsent=True)
        return outcome in self.posted


async def test_a_takeover_that_cannot_read_the_history_keeps_the_doubt_for_the_next() -> None:
    notifier, clock = UnreadableHistoryOnce(NotifierUnavailable("timeout")), Clock()
    deps = make_deps(notifier=notifier, clock=clock)
    notice = await notice_of(submit(), deps)

    with pytest.raises(NotifierUnavailable):
        await HANDLERS["notifications"](notice, deps)
    clock.now += timedelta(milliseconds=NOTIFY_LEASE_MS + 1)
    with pytest.raises(NotifierUnavailable):
        await HANDLERS["notifications"](notice, deps)  # history unreadable: nothing sent, lease kept
    clock.now += timedelta(milliseconds=NOTIFY_LEASE_MS + 1)
    await HANDLERS["notifications"](notice, deps)  # taken over again: it reads the history again

    assert notifier.posted == [notice] and notifier.history_reads == 2


async def test_a_notice_sent_keeps_its_lease() -> None:
    deps = make_deps(clock=Clock())
    notice = await notice_of(submit(), deps)
    await HANDLERS["notifications"](notice, deps)
    now_ms = int(deps.clock().timestamp() * 1000)
    lease = f"{NOTIFIED_KEY}#{notice.trade.trade_id}"
    assert await deps.store.claim_lease(lease, now_ms=now_ms, lease_ms=NOTIFY_LEASE_MS) is False


async def test_a_lease_that_cannot_be_released_leaves_the_notifiers_error_to_retry() -> None:
    deps = make_deps(
        notifier=FailingNotifier(NotifierUnavailable("Slack is down", surely_unsent=True)),
        store=ReleaseRefusingStore(),
        clock=Clock(),
    )
    notice = await notice_of(submit(), deps)
    with pytest.raises(NotifierUnavailable, match="Slack is down"):
        await HANDLERS["notifications"](notice, deps)


class AuditOutageStore(MemoryTradeStore):
    """DynamoDB unreachable once, just after the DM went out: the notice is sent but not recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.outages = 1

    async def append_audit(self, event: Any) -> bool:
        if self.outages and event.event_key == NOTIFIED_KEY:
            self.outages -= 1
            raise StoreUnavailable("DynamoDB append_audit: EndpointConnectionError")
        return await super().append_audit(event)


async def test_a_notice_sent_but_not_recorded_is_not_sent_again_when_the_lease_is_taken_over() -> None:
    notifier, clock = FakeNotifier(), Clock()
    deps = make_deps(notifier=notifier, store=AuditOutageStore(), clock=clock)
    notice = await notice_of(submit(), deps)

    with pytest.raises(StoreUnavailable):
        await HANDLERS["notifications"](notice, deps)  # sent, then the audit write failed: lease kept
    with pytest.raises(Deferred):
        await HANDLERS["notifications"](notice, deps)  # the lease still runs: wait
    clock.now += timedelta(milliseconds=NOTIFY_LEASE_MS + 1)
    await HANDLERS["notifications"](notice, deps)  # taken over: Slack already has it

    assert notifier.sent == [notice]
    assert await deps.store.get_audit(notice.trade.trade_id, NOTIFIED_KEY) is not None


async def test_a_holder_that_died_before_sending_leaves_the_notice_to_its_successor() -> None:
    notifier, clock = FakeNotifier(), Clock()
    deps = make_deps(notifier=notifier, clock=clock)
    notice = await notice_of(submit(), deps)
    lease = f"{NOTIFIED_KEY}#{notice.trade.trade_id}"
    now_ms = int(clock.now.timestamp() * 1000)
    assert await deps.store.claim_lease(lease, now_ms=now_ms, lease_ms=NOTIFY_LEASE_MS)  # ... then kill -9

    clock.now += timedelta(milliseconds=NOTIFY_LEASE_MS + 1)
    await HANDLERS["notifications"](notice, deps)

    assert notifier.sent == [notice]
