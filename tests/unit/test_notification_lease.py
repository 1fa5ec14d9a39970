"""A failed notice frees its lease, so the retry sends at once instead of waiting it out as Deferred."""

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
from workers.handlers.ports import NotifierUnavailable, Outcome
from workers.store.memory.store import MemoryTradeStore
from workers.store.port import StoreUnavailable


class FailingNotifier:
    """Fails its first `failures` notices with `error`, then delivers."""

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


async def notice_of(command: SubmitTrade, deps: Deps) -> PositionUpdated:
    """Run the chain up to the notifications stage and return the message it would get."""
    message: AnyMessage | None = command
    while message is not None and next_stage(message) != "notifications":
        message = await HANDLERS[next_stage(message)](message, deps)
    assert isinstance(message, PositionUpdated)
    return message


@pytest.mark.parametrize(
    "error", [NotifierUnavailable("Slack chat.postMessage failed"), RuntimeError("notifier bug")]
)
async def test_a_failed_notice_releases_its_lease_so_the_retry_sends_at_once(error: Exception) -> None:
    notifier = FailingNotifier(error)
    deps = make_deps(notifier=notifier)
    notice = await notice_of(submit(), deps)

    with pytest.raises(type(error)):
        await HANDLERS["notifications"](notice, deps)
    await HANDLERS["notifications"](notice, deps)  # at once: no Deferred for the lease's 30 s

    assert notifier.sent == [notice]
    assert await deps.store.get_audit(notice.trade.trade_id, NOTIFIED_KEY) is not None


async def test_a_notice_sent_keeps_its_lease() -> None:
    deps = make_deps()
    notice = await notice_of(submit(), deps)
    await HANDLERS["notifications"](notice, deps)
    now_ms = int(deps.clock().timestamp() * 1000)
    lease = f"{NOTIFIED_KEY}#{notice.trade.trade_id}"
    assert await deps.store.claim_lease(lease, now_ms=now_ms, lease_ms=NOTIFY_LEASE_MS) is False


async def test_a_lease_that_cannot_be_released_leaves_the_notifiers_error_to_retry() -> None:
    deps = make_deps(
        notifier=FailingNotifier(NotifierUnavailable("Slack is down")), store=ReleaseRefusingStore()
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


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


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
