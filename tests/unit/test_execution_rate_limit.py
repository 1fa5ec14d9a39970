"""A trade held back by Alpaca's rate limit waits in its queue: never failed, never simulated, its order
lease untouched; a trader whose trade waits long is told once that it is queued behind the limit."""

from __future__ import annotations

from typing import Any

import pytest

from brokers.port import BrokerBusy, BrokerResult, RateLimited
from brokers.simulated import SimulatedBroker
from messages.codec import from_payload
from messages.events import TradeExecuted, TradeHeld
from messages.trade import OrderPending, TradeRequest
from tests.unit.fakes import CountingBroker, FakeNotifier, make_deps, submit
from workers.chain.rate_limit import RateLimitNotices
from workers.chain.stage_handlers import STAGE_HANDLERS as HANDLERS
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred
from workers.handlers.rate_waits import QUEUED_REASON, QueuedBehindRateLimit
from workers.handlers.records import open_record
from workers.notify.templates import held_text


class Spent(CountingBroker):
    """An account whose budget says the order waits `wait_s` more, until told otherwise."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(SimulatedBroker(seed=7, delay_ms=0))
        self.wait_s = wait_s

    async def admission(self, trade: TradeRequest) -> float:
        return self.wait_s


class RefusedAtTheOrder(CountingBroker):
    """The budget had room when asked, then Alpaca answered 429 before the order left."""

    async def execute(self, trade: TradeRequest, *, first_attempt: bool = True) -> BrokerResult:
        self.first_attempts.append(first_attempt)
        raise RateLimited("Alpaca answered 429", retry_after_s=7.5)


async def recorded(deps: Deps) -> Any:
    return await HANDLERS["persistence"](await HANDLERS["validation"](submit(), deps), deps)


async def test_a_trade_whose_order_would_wait_goes_back_to_its_queue_untouched() -> None:
    broker = Spent(wait_s=12.5)
    deps = make_deps(broker=broker)
    event = await recorded(deps)

    with pytest.raises(QueuedBehindRateLimit) as queued:
        await HANDLERS["execution"](event, deps)

    assert isinstance(queued.value, Deferred) and queued.value.retry_after_ms == 12_500
    assert broker.calls == [] and broker.first_attempts == []
    record = await deps.store.get_trade(event.trade.trade_id)
    assert record is not None and record.status == "pending"  # not failed, not simulated
    now_ms = int(deps.clock().timestamp() * 1000)
    lease = f"order#{event.trade.trade_id}"
    assert await deps.store.claim_lease(lease, now_ms=now_ms, lease_ms=1_000)  # never taken


async def test_once_the_budget_has_room_the_same_trade_executes_as_a_first_attempt() -> None:
    broker = Spent(wait_s=3.0)
    deps = make_deps(broker=broker)
    event = await recorded(deps)
    with pytest.raises(QueuedBehindRateLimit):
        await HANDLERS["execution"](event, deps)
    broker.wait_s = 0.0

    executed = await HANDLERS["execution"](event, deps)

    assert isinstance(executed, TradeExecuted) and broker.first_attempts == [True]


async def test_a_429_met_at_the_order_waits_for_alpacas_reset_and_gives_the_lease_back() -> None:
    broker = RefusedAtTheOrder(SimulatedBroker(seed=7, delay_ms=0))
    deps = make_deps(broker=broker)
    event = await recorded(deps)

    with pytest.raises(QueuedBehindRateLimit) as queued:
        await HANDLERS["execution"](event, deps)

    assert queued.value.retry_after_ms == 7_500
    record = await deps.store.get_trade(event.trade.trade_id)
    assert record is not None and record.status == "pending"
    now_ms = int(deps.clock().timestamp() * 1000)
    assert await deps.store.claim_lease(f"order#{event.trade.trade_id}", now_ms=now_ms, lease_ms=1_000)


class BusySettling(CountingBroker):
    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> BrokerResult:
        raise BrokerBusy("Alpaca is rate limiting requests")


async def test_settling_an_open_trade_while_rate_limited_waits_instead_of_failing() -> None:
    deps = make_deps(broker=CountingBroker(SimulatedBroker(seed=7, delay_ms=0)))
    event = await recorded(deps)
    working = OrderPending(
        state="working", execution_method="alpaca", alpaca_order_id="o-1", reason="resting"
    )
    pending = await deps.store.get_trade(event.trade.trade_id)
    assert pending is not None

    await deps.store.record_progress(open_record(pending, working), None)
    busy = make_deps(store=deps.store, broker=BusySettling(SimulatedBroker(seed=7, delay_ms=0)))

    with pytest.raises(QueuedBehindRateLimit) as queued:
        await HANDLERS["execution"](event, busy)
    assert queued.value.retry_after_ms == 1_000


class Envelope:
    """What the middleware sees of a delivery: its queue and the options it keeps across deliveries."""

    def __init__(self) -> None:
        self.queue_name = "execution"
        self.options: dict[str, Any] = {}


class Outbox:
    """Stands in for RabbitMQ: what was published."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def enqueue(self, message: Any, *, delay: int | None = None) -> Any:
        self.sent.append(from_payload(message.args[0]))
        return message


def test_a_trader_is_told_once_when_the_wait_will_pass_the_notice_threshold() -> None:
    notices, outbox, delivery = RateLimitNotices(notice_after_ms=5_000, queue_of=str), Outbox(), Envelope()
    trade = submit().trade

    def held_back(wait_ms: int) -> None:
        exception = QueuedBehindRateLimit(trade, retry_after_ms=wait_ms, reason="spent")
        notices.after_process_message(outbox, delivery, exception=exception)  # type: ignore[arg-type]

    held_back(1_000)  # a short wait: nobody is bothered
    assert outbox.sent == []
    held_back(30_000)  # by its next try it will have waited well past 5 s
    held_back(30_000)
    [notice] = outbox.sent
    assert isinstance(notice, TradeHeld) and notice.state == "delayed" and notice.stage == "execution"
    assert "queued behind Alpaca's rate limit" in notice.reason and notice.trade == trade
    assert delivery.options["rate_limit_told"] is True and "rate_limited_since_ms" in delivery.options


def test_other_failures_are_not_the_rate_limits_business() -> None:
    notices, outbox, delivery = RateLimitNotices(notice_after_ms=0, queue_of=str), Outbox(), Envelope()
    notices.after_process_message(outbox, delivery, exception=Deferred("lease held", retry_after_ms=1))  # type: ignore[arg-type]
    notices.after_process_message(outbox, delivery, exception=None)  # type: ignore[arg-type]
    assert outbox.sent == [] and delivery.options == {}


async def test_the_queued_notice_reaches_the_trader_of_a_recorded_trade_and_says_why() -> None:
    notifier = FakeNotifier()
    deps = make_deps(notifier=notifier)
    event = await recorded(deps)  # recorded and pending: waiting at execution
    notice = TradeHeld(
        trade=event.trade, state="delayed", reason=QUEUED_REASON, stage="execution", held_at=deps.clock()
    )

    await HANDLERS["notifications"](notice, deps)
    await HANDLERS["notifications"](notice, deps)  # redelivered: told once

    assert notifier.sent == [notice]
    assert "Alpaca's rate limit holds your trade" in held_text(notice)


async def test_a_store_outage_notice_for_a_trade_recorded_after_all_is_still_not_sent() -> None:
    notifier = FakeNotifier()
    deps = make_deps(notifier=notifier)
    event = await recorded(deps)
    notice = TradeHeld(
        trade=event.trade,
        state="delayed",
        reason="store unavailable",
        stage="persistence",
        held_at=deps.clock(),
    )
    await HANDLERS["notifications"](notice, deps)
    assert notifier.sent == []
