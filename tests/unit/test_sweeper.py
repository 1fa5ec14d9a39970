"""The sweeper on in-memory fakes: which trades are stuck, the lease that keeps one chain, the whole chain."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from brokers.port import BrokerResult, MarketConditions
from messages.alerts import SendAlert
from messages.events import AnyMessage, PositionUpdated, ReconcileTrade, SweepOpenTrades, TradeFailed
from messages.records import AuditEvent, TradeRecord, pending_record
from messages.trade import Execution, OrderPending, TradeRequest
from tests.unit.fakes import FakeNotifier, make_deps, trade
from workers.chain.routing import next_stage, outputs
from workers.chain.stage_handlers import STAGE_HANDLERS as HANDLERS
from workers.handlers.audit import NOTIFIED_KEY, audit_event
from workers.handlers.deps import Deps, ReconcilePolicy
from workers.handlers.sweeper import LEASE_SHARE, find_stuck_trades, sweep_open_trades
from workers.store.memory.store import MemoryTradeStore
from workers.store.port import StoreUnavailable, TradeStore

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
POLICY = ReconcilePolicy(
    stuck_after=timedelta(minutes=5), sweep_interval=timedelta(minutes=1), attempt_limit=timedelta(seconds=90)
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _put(store: TradeStore, status: str, recorded_at: datetime, **trade_fields: object) -> TradeRecord:
    """A trade recorded at `recorded_at`, then moved to `status` as the execution stage would."""
    record = pending_record(trade(**trade_fields), recorded_at=recorded_at, expires_at=2_000_000_000)
    assert await store.put_new_trade(record, []) is None
    if status in ("working", "unknown"):
        record = msgspec.structs.replace(record, status=status, alpaca_order_id="ord-1")
        assert await store.record_progress(record, None) is None
    elif status == "failed":
        record = msgspec.structs.replace(record, status="failed", error_code="ORDER_REJECTED")
        assert await store.record_outcome(record, _failed(record)) is None
    return record


def _failed(record: TradeRecord) -> AuditEvent:
    return audit_event("trade_failed", record.request(), at=T0, retention_days=2557)


def _deps(clock: Clock, store: TradeStore | None = None, **policy: timedelta) -> Deps:
    reconcile = dataclasses.replace(POLICY, **policy)
    return make_deps(store=store or MemoryTradeStore(), clock=clock, reconcile=reconcile)


async def test_the_finder_returns_open_trades_recorded_before_the_deadline_and_nothing_else() -> None:
    store = MemoryTradeStore()
    old = T0 - timedelta(hours=1)
    stuck = {await _put(store, status, old) for status in ("pending", "working", "unknown")}
    young = await _put(store, "pending", T0 - timedelta(minutes=1))
    await _put(store, "failed", old)

    found = await find_stuck_trades(store, now=T0, older_than=timedelta(minutes=5))
    assert {s.record.trade_id for s in found} == {r.trade_id for r in stuck}
    assert all(s.age == timedelta(hours=1) for s in found)
    assert {s.reason for s in found} == {"pending for 1h00m", "working for 1h00m", "unknown for 1h00m"}

    every = await find_stuck_trades(store, now=T0, older_than=None)
    assert {s.record.trade_id for s in every} == {r.trade_id for r in stuck} | {young.trade_id}


class LaggingIndexStore(MemoryTradeStore):
    """The open-trades index as DynamoDB may serve it: a moment behind the table."""

    def __init__(self) -> None:
        super().__init__()
        self.listing: list[TradeRecord] = []

    async def iter_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), *, page_size: int = 500
    ) -> AsyncIterator[TradeRecord]:
        for record in self.listing:
            yield record


async def test_the_finder_rereads_each_trade_and_acts_on_the_table_not_the_index() -> None:
    store = LaggingIndexStore()
    old = T0 - timedelta(hours=1)
    closed = await _put(store, "pending", old)
    moved = await _put(store, "pending", old)
    await store.record_outcome(
        msgspec.structs.replace(closed, status="failed", error_code="X"), _failed(closed)
    )
    await store.record_progress(msgspec.structs.replace(moved, status="working", alpaca_order_id="o"), None)
    store.listing = [closed, moved]  # both listed as they were: open and pending

    [found] = await find_stuck_trades(store, now=T0, older_than=timedelta(minutes=5))
    assert found.record.trade_id == moved.trade_id and found.record.status == "working"


async def test_a_sweep_takes_the_lease_sends_one_look_per_stuck_trade_and_schedules_the_next() -> None:
    clock = Clock(T0)
    deps = _deps(clock)
    stuck = await _put(deps.store, "working", T0 - timedelta(minutes=10))
    await _put(deps.store, "working", T0 - timedelta(minutes=1))

    result = outputs(await sweep_open_trades(SweepOpenTrades(reason="worker boot", seeded=True), deps))
    next_tick, reconcile = result
    assert isinstance(next_tick, SweepOpenTrades) and not next_tick.seeded
    assert next_tick.delay_ms == 60_000
    assert isinstance(reconcile, ReconcileTrade) and reconcile.trade.trade_id == stuck.trade_id
    assert not reconcile.recheck and reconcile.reason == "sweeper: working for 10m"


async def test_a_second_chain_finds_the_lease_held_and_ends() -> None:
    clock = Clock(T0)
    deps = _deps(clock)
    assert await sweep_open_trades(SweepOpenTrades(reason="worker boot", seeded=True), deps) is not None
    clock.now += timedelta(seconds=30)
    assert await sweep_open_trades(SweepOpenTrades(reason="scheduled"), deps) is None


async def test_the_chains_own_next_tick_finds_the_lease_run_out_and_sweeps_again() -> None:
    clock = Clock(T0)
    deps = _deps(clock)
    first = outputs(await sweep_open_trades(SweepOpenTrades(seeded=True), deps))
    clock.now += timedelta(milliseconds=first[0].delay_ms)  # type: ignore[union-attr]
    second = outputs(await sweep_open_trades(first[0], deps))  # type: ignore[arg-type]
    assert isinstance(second[0], SweepOpenTrades) and second[0].delay_ms == 60_000


async def test_a_boot_seed_waits_out_a_crashed_holders_lease_once_then_takes_over() -> None:
    clock = Clock(T0)
    deps = _deps(clock)
    await sweep_open_trades(SweepOpenTrades(seeded=True), deps)  # the holder, whose next tick is lost
    clock.now += timedelta(seconds=10)
    waiting = await sweep_open_trades(SweepOpenTrades(reason="worker boot", seeded=True), deps)
    assert isinstance(waiting, SweepOpenTrades) and not waiting.seeded
    assert waiting.delay_ms == 60_000 * LEASE_SHARE

    clock.now += timedelta(milliseconds=waiting.delay_ms)
    took_over = outputs(await sweep_open_trades(waiting, deps))
    assert isinstance(took_over[0], SweepOpenTrades) and took_over[0].delay_ms == 60_000


async def test_a_waiting_seed_that_finds_a_live_chain_ends() -> None:
    clock = Clock(T0)
    deps = _deps(clock)
    waiting = SweepOpenTrades(reason="boot seed waiting out the lease", seeded=False)
    assert await sweep_open_trades(SweepOpenTrades(seeded=True), deps) is not None
    assert await sweep_open_trades(waiting, deps) is None


async def test_sweeping_off_ends_the_chain_without_taking_the_lease() -> None:
    clock = Clock(T0)
    off = _deps(clock, sweep_interval=timedelta(0))
    assert await sweep_open_trades(SweepOpenTrades(seeded=True), off) is None
    on = _deps(clock, store=off.store, sweep_interval=timedelta(minutes=1))
    assert await sweep_open_trades(SweepOpenTrades(seeded=False), on) is not None


class UnavailableIndexStore(MemoryTradeStore):
    async def list_open_trades(
        self, statuses: Collection[str] = ("working", "unknown"), limit: int = 500
    ) -> list[TradeRecord]:
        raise StoreUnavailable("throttled")


async def test_a_store_outage_skips_the_sweep_but_keeps_the_chain() -> None:
    deps = _deps(Clock(T0), store=UnavailableIndexStore())
    result = await sweep_open_trades(SweepOpenTrades(seeded=True), deps)
    assert result == (SweepOpenTrades(reason="scheduled", delay_ms=60_000),)


class OrderBook:
    """A stock broker that only answers lookups: the orders it holds, by trade id; it never places one."""

    name = "alpaca"

    def __init__(self, resting: frozenset[str] | None = None) -> None:
        self.orders: dict[uuid.UUID, BrokerResult] = {}
        self.looked_up: list[uuid.UUID] = []
        self.resting = resting  # the client order ids of the orders open at the stock broker; None: unknown
        self.open_orders_read = 0
        self.held: dict[str, Decimal] | None = None  # the account's shares per symbol; None: no account

    def hold(self, trade_id: uuid.UUID, result: BrokerResult) -> None:
        self.orders[trade_id] = result

    async def execute(self, trade: TradeRequest, *, first_attempt: bool = True) -> BrokerResult:
        raise AssertionError(f"trade {trade.trade_id} was placed late")

    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> BrokerResult:
        self.looked_up.append(trade.trade_id)
        none = OrderPending(state="unknown", execution_method="alpaca", reason="no order found")
        return self.orders.get(trade.trade_id, none)

    async def conditions(self, symbol: str) -> MarketConditions:
        return MarketConditions(tradable=True)

    async def reference_price(self, symbol: str) -> Decimal | None:
        return Decimal(100)

    async def admission(self, trade: TradeRequest) -> float:
        return 0.0

    async def open_orders(self) -> frozenset[str] | None:
        self.open_orders_read += 1
        return self.resting

    async def account_positions(self) -> dict[str, Decimal] | None:
        return self.held

    async def close(self) -> None:
        return None


def _filled(quantity: Decimal) -> Execution:
    return Execution(
        execution_id=uuid.uuid4(),
        execution_method="alpaca",
        execution_price=Decimal("99.5"),
        filled_quantity=quantity,
        execution_timestamp=T0,
        execution_time_ms=Decimal(80),
        reference_price=Decimal(100),
        slippage_bps=Decimal(0),
        market_impact_bps=Decimal("0.2"),
        alpaca_order_id="ord-1",
    )


async def _run(messages: tuple[AnyMessage, ...], deps: Deps) -> list[AnyMessage]:
    """Route each message to its handler, then what it returned, until nothing is left."""
    seen, queue = [], list(messages)
    while queue:
        message = queue.pop(0)
        seen.append(message)
        if not isinstance(message, SweepOpenTrades):  # the next tick is not followed here
            queue += outputs(await HANDLERS[next_stage(message)](message, deps))
    return seen


async def test_swept_stuck_trades_complete_through_the_chain_with_one_notice_each() -> None:
    broker, notifier = OrderBook(), FakeNotifier()
    deps = make_deps(clock=Clock(T0), reconcile=POLICY, notifier=notifier, broker=broker)
    an_hour_ago = T0 - timedelta(hours=1)
    never_placed = await _put(deps.store, "pending", an_hour_ago)
    filled_unwatched = await _put(deps.store, "working", an_hour_ago, quantity=Decimal(3))
    broker.hold(filled_unwatched.trade_id, _filled(Decimal(3)))

    seen = await _run(outputs(await sweep_open_trades(SweepOpenTrades(seeded=True), deps)), deps)

    [failed] = [m for m in seen if isinstance(m, TradeFailed)]
    assert failed.trade.trade_id == never_placed.trade_id and failed.error.code == "NOT_EXECUTED_IN_TIME"
    [updated] = [m for m in seen if isinstance(m, PositionUpdated)]
    assert updated.trade.trade_id == filled_unwatched.trade_id and updated.position.quantity == Decimal(3)
    # No attempt ever held the pending trade's order lease: no order exists, and it costs no lookup.
    assert broker.looked_up == [filled_unwatched.trade_id]
    assert [n.trade.trade_id for n in notifier.sent].count(never_placed.trade_id) == 1
    assert [n.trade.trade_id for n in notifier.sent].count(filled_unwatched.trade_id) == 1
    for trade_id in (never_placed.trade_id, filled_unwatched.trade_id):
        assert await deps.store.get_audit(trade_id, NOTIFIED_KEY) is not None


async def test_a_sweep_reads_every_open_trade_not_only_the_oldest_page() -> None:
    store = MemoryTradeStore()
    old = T0 - timedelta(hours=1)
    records = [await _put(store, "unknown", old - timedelta(seconds=i)) for i in range(23)]
    found = await find_stuck_trades(store, now=T0, older_than=timedelta(minutes=5), page_size=5)
    assert sorted(s.record.trade_id for s in found) == sorted(r.trade_id for r in records)


async def test_a_resting_order_costs_no_lookup_and_one_that_ended_unseen_is_settled_at_any_age() -> None:
    still_resting_id, ended_id = uuid.uuid4(), uuid.uuid4()
    broker = OrderBook(resting=frozenset({str(still_resting_id)}))
    deps = make_deps(clock=Clock(T0), reconcile=POLICY, broker=broker)
    old, young = T0 - timedelta(hours=1), T0 - timedelta(seconds=20)
    resting = await _put(deps.store, "working", old, trade_id=still_resting_id)
    ended = await _put(deps.store, "working", young, trade_id=ended_id, quantity=Decimal(2))
    unsure = await _put(deps.store, "unknown", old)
    broker.hold(ended.trade_id, _filled(Decimal(2)))

    swept = outputs(await sweep_open_trades(SweepOpenTrades(seeded=True), deps))

    looks = {m.trade.trade_id for m in swept if isinstance(m, ReconcileTrade)}
    assert looks == {ended.trade_id, unsure.trade_id}  # the resting order: nothing to ask
    assert resting.trade_id not in looks and broker.open_orders_read == 1
    seen = await _run(tuple(m for m in swept if isinstance(m, ReconcileTrade)), deps)
    assert any(isinstance(m, PositionUpdated) and m.trade.trade_id == ended.trade_id for m in seen)
    assert broker.looked_up.count(resting.trade_id) == 0


async def test_a_drift_from_alpacas_positions_is_named_only_when_two_sweeps_running_see_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from messages.records import Position

    broker, clock = OrderBook(), Clock(T0)
    deps = make_deps(clock=clock, reconcile=POLICY, broker=broker)
    await deps.store.apply_position(
        Position(user_id="U123", symbol="AAPL", quantity=Decimal(5), average_cost=Decimal(100)),
        expected_version=0,
        audit=audit_event("position_updated", trade(), at=T0, retention_days=2557),
    )
    broker.held = {"AAPL": Decimal(5), "MSFT": Decimal(2)}  # MSFT bought outside tradeflow

    def tick(result: object) -> SweepOpenTrades:
        [next_tick] = [m for m in outputs(result) if isinstance(m, SweepOpenTrades)]  # type: ignore[arg-type]
        return next_tick

    with caplog.at_level("WARNING", logger="tradeflow.sweeper"):
        first = tick(await sweep_open_trades(SweepOpenTrades(seeded=True), deps))
        assert first.drift == ("MSFT:2",) and not caplog.records  # once: maybe a fill in flight
        clock.now += POLICY.sweep_interval
        swept = outputs(await sweep_open_trades(first, deps))
        second = tick(swept)

    assert second.drift == ("MSFT:2",)
    [warning] = caplog.records
    assert "MSFT (Alpaca 2, tradeflow 0)" in warning.getMessage() and "AAPL" not in warning.getMessage()
    [alert] = [m for m in swept if isinstance(m, SendAlert)]  # alerted by email and SMS
    assert alert.kind == "drift" and "MSFT (Alpaca 2, tradeflow 0)" in alert.body
    clock.now += POLICY.sweep_interval
    third = outputs(await sweep_open_trades(second, deps))
    [again] = [m for m in third if isinstance(m, SendAlert)]  # the same drift, the same day: one alert
    assert again.alert_id == alert.alert_id
    second = tick(third)

    broker.held = {"AAPL": Decimal(5)}  # settled: the next sweep sees nothing
    clock.now += POLICY.sweep_interval
    assert tick(await sweep_open_trades(second, deps)).drift == ()
