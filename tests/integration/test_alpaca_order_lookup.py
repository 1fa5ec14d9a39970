"""The lookup by client order id on the emulator: only Alpaca's "order not found" means no order exists.

An Alpaca outage while a late trade's order is looked up must not fail a trade whose order exists
(NOT_EXECUTED_IN_TIME): a 5xx, a 429, a timeout or a dropped connection is raised, and the verdict retried.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from alpaca.common.exceptions import APIError

from brokers.alpaca import AlpacaPaperBroker
from brokers.fallback import FallbackBroker
from brokers.port import BrokerBusy, BrokerUnavailable
from brokers.simulated import SimulatedBroker
from emulators.alpaca import AlpacaEmulator
from messages.events import ReconcileTrade, TradeExecuted, TradeRecorded
from messages.trade import Execution, OrderPending
from tests.fixtures_alpaca import make_broker
from tests.unit.fakes import make_deps, submit, trade
from workers.handlers.deps import Deps, ReconcilePolicy
from workers.handlers.execution import execute_trade
from workers.handlers.persistence import record_trade
from workers.handlers.validation import validate_trade

LOOKUP = "/v2/orders:by_client_order_id"
POLICY = ReconcilePolicy(stuck_after=timedelta(minutes=5), attempt_limit=timedelta(seconds=90))
# Each way Alpaca can fail to answer a lookup, and what the adapter raises for it.
OUTAGES = [
    pytest.param({"kind": "http_error", "status": 503}, BrokerUnavailable, id="503"),
    pytest.param({"kind": "http_error", "status": 500}, BrokerUnavailable, id="500"),
    pytest.param({"kind": "http_error", "status": 502}, BrokerUnavailable, id="502"),
    pytest.param({"kind": "http_error", "status": 429}, BrokerBusy, id="429"),
    pytest.param({"kind": "drop_connection", "phase": "before"}, BrokerUnavailable, id="dropped"),
    pytest.param({"kind": "slow", "delay_s": 2.0}, BrokerUnavailable, id="timeout"),  # > the 1 s bound
]


@pytest.fixture
async def alpaca(alpaca_emulator: AlpacaEmulator) -> AsyncIterator[AlpacaPaperBroker]:
    broker = make_broker(alpaca_emulator)
    yield broker
    await broker.close()


def _outage(emulator: AlpacaEmulator, fault: dict[str, Any]) -> None:
    """Every lookup by client order id fails this way until the faults are cleared."""
    spec = dict(fault)
    emulator.admin.add_fault(spec.pop("kind"), method="GET", path=LOOKUP, times=None, **spec)


async def test_no_order_is_alpacas_order_not_found(alpaca: AlpacaPaperBroker) -> None:
    result = await alpaca.resume(trade(), None)
    assert isinstance(result, OrderPending) and result.state == "unknown"


@pytest.mark.parametrize(("fault", "raised"), OUTAGES)
async def test_an_outage_during_the_lookup_is_raised_not_taken_for_no_order(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator, fault: dict[str, Any], raised: type
) -> None:
    t = trade()
    assert isinstance(await alpaca.execute(t), Execution)  # the order exists
    _outage(alpaca_emulator, fault)
    with pytest.raises(raised):
        await alpaca.resume(t, None)
    alpaca_emulator.admin.clear_faults()
    assert isinstance(await alpaca.resume(t, None), Execution)


async def test_a_404_that_is_not_alpacas_order_not_found_is_no_verdict(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    # A wrong base URL (a proxy's or a missing route's 404) says nothing about the order.
    broker = make_broker(alpaca_emulator, base_url=alpaca_emulator.base_url + "/nowhere")
    try:
        with pytest.raises(APIError) as raised:
            await broker.resume(trade(), None)
    finally:
        await broker.close()
    assert raised.value.status_code == 404  # the emulator's "endpoint not found", with Alpaca's 404 code


async def test_an_order_request_that_may_have_arrived_stays_unknown_when_the_lookup_fails_too(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    broker = make_broker(alpaca_emulator, fill_timeout_s=1.0)
    alpaca_emulator.admin.add_fault("http_error", method="POST", path="/v2/orders", status=503, phase="after")
    _outage(alpaca_emulator, {"kind": "http_error", "status": 503})
    fallback = FallbackBroker(broker, SimulatedBroker(delay_ms=0))
    t = trade()
    try:
        result = await fallback.execute(t)
    finally:
        await fallback.close()
    assert isinstance(result, OrderPending) and result.state == "unknown"  # never simulated
    assert len(alpaca_emulator.admin.orders(str(t.trade_id))) == 1


async def _late_trade(deps: Deps) -> TradeRecorded:
    validated = await validate_trade(submit(), deps)
    recorded = await record_trade(validated, deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)
    return recorded


async def test_an_outage_never_fails_a_late_trade_whose_order_exists(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    now = [trade().submitted_at]
    deps = make_deps(broker=alpaca, clock=lambda: now[0], reconcile=POLICY)
    recorded = await _late_trade(deps)
    # Its order reached Alpaca under the order lease, but the worker died before recording the outcome.
    lease = f"order#{recorded.trade.trade_id}"
    await deps.store.claim_lease_over(lease, now_ms=int(now[0].timestamp() * 1000), lease_ms=90_000)
    assert isinstance(await alpaca.execute(recorded.trade), Execution)
    now[0] += POLICY.stuck_after + POLICY.attempt_limit + timedelta(seconds=1)
    _outage(alpaca_emulator, {"kind": "http_error", "status": 503})

    # Not NOT_EXECUTED_IN_TIME: a recheck is retried by the queue; the sweeper's one look is dropped (its
    # next sweep looks again).
    with pytest.raises(BrokerUnavailable):
        await execute_trade(ReconcileTrade(trade=recorded.trade), deps)
    assert await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps) is None
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "pending"

    alpaca_emulator.admin.clear_faults()
    now[0] += timedelta(seconds=2)  # the next sweep, once the look's own lease (a second) has run out
    settled = await execute_trade(ReconcileTrade(trade=recorded.trade, recheck=False), deps)
    assert isinstance(settled, TradeExecuted)
    assert settled.execution.filled_quantity == Decimal(10)
    assert len(alpaca_emulator.admin.orders(str(recorded.trade.trade_id))) == 1
