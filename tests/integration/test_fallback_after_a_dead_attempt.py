"""A later attempt at a trade (its first worker was killed mid-order) is never simulated: an order the dead
attempt sent is settled at Alpaca, by Alpaca's answer. With Alpaca unreachable the trade waits (retried);
with Alpaca disabled in the worker that picks it up (ALPACA_PAPER_ENABLED=false, a safety check failing
at boot) it stays `unknown` until a worker that can ask Alpaca settles it (issue 13, defect 3)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from brokers.alpaca import AlpacaPaperBroker
from brokers.fallback import FallbackBroker
from brokers.port import BrokerUnavailable
from brokers.simulated import SimulatedBroker
from emulators.alpaca import AlpacaEmulator
from messages.trade import Execution, OrderPending
from tests.fixtures_alpaca import make_broker
from tests.unit.fakes import trade


@pytest.fixture
async def fallback(alpaca_emulator: AlpacaEmulator) -> AsyncIterator[FallbackBroker]:
    broker: AlpacaPaperBroker = make_broker(alpaca_emulator)
    yield FallbackBroker(broker, SimulatedBroker(delay_ms=0))
    await broker.close()


def _account_down(emulator: AlpacaEmulator) -> None:
    """The safety check's account read fails: no new order can be sent."""
    emulator.admin.add_fault("http_error", status=503, method="GET", path="/v2/account", times=None)


async def test_an_order_the_dead_attempt_placed_is_settled_at_alpaca_not_simulated(
    fallback: FallbackBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    placed = trade()
    first = await fallback.execute(placed)  # ... and its worker dies before recording the fill
    assert isinstance(first, Execution) and first.execution_method == "alpaca"
    _account_down(alpaca_emulator)

    again = await fallback.execute(placed, first_attempt=False)

    assert isinstance(again, Execution) and again.execution_method == "alpaca"
    assert again.alpaca_order_id == first.alpaca_order_id
    assert len(alpaca_emulator.admin.orders(str(placed.trade_id))) == 1


async def test_with_no_order_at_alpaca_a_later_attempt_still_never_simulates(
    fallback: FallbackBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    _account_down(alpaca_emulator)
    with pytest.raises(BrokerUnavailable):  # retried until Alpaca answers, or found late and failed
        await fallback.execute(trade(), first_attempt=False)
    assert alpaca_emulator.admin.orders() == []


async def test_when_alpaca_cannot_say_a_later_attempt_waits(
    fallback: FallbackBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    alpaca_emulator.admin.add_fault("http_error", status=503, times=None)  # every route
    with pytest.raises(BrokerUnavailable):
        await fallback.execute(trade(), first_attempt=False)
    assert alpaca_emulator.admin.orders() == []


async def test_a_first_attempt_still_falls_back_at_once(
    fallback: FallbackBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    alpaca_emulator.admin.add_fault("http_error", status=503, times=None)
    result = await fallback.execute(trade())
    assert isinstance(result, Execution) and result.execution_method == "simulation"


async def test_an_outage_after_the_order_left_is_left_to_reconcile_never_simulated(
    fallback: FallbackBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    alpaca_emulator.admin.configure(fill_delay_ms=1_500)  # the order is accepted, then rests a moment
    alpaca_emulator.admin.add_fault("http_error", status=500, method="GET", path="/v2/orders/*", times=None)
    placed = trade()

    result = await fallback.execute(placed)  # a first attempt: it could fall back, were nothing sent

    assert isinstance(result, OrderPending) and result.state == "unknown" and result.alpaca_order_id
    assert len(alpaca_emulator.admin.orders(str(placed.trade_id))) == 1


async def test_a_worker_restarted_with_alpaca_disabled_leaves_the_trade_unknown_until_alpaca_settles_it(
    fallback: FallbackBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    placed = trade()
    first = await fallback.execute(placed)  # the order filled at Alpaca; its worker died unrecorded
    assert isinstance(first, Execution) and first.execution_method == "alpaca"
    restarted = FallbackBroker(
        None, SimulatedBroker(delay_ms=0), disabled_reason="ALPACA_PAPER_ENABLED=false"
    )

    kept = await restarted.execute(placed, first_attempt=False)

    assert isinstance(kept, OrderPending) and kept.state == "unknown" and kept.execution_method == "alpaca"
    with pytest.raises(BrokerUnavailable):  # it cannot ask Alpaca: no verdict from this worker
        await restarted.resume(placed, None)
    settled = await fallback.resume(placed, None)  # a worker with Alpaca enabled settles it
    assert isinstance(settled, Execution) and settled.alpaca_order_id == first.alpaca_order_id
    assert len(alpaca_emulator.admin.orders(str(placed.trade_id))) == 1


async def test_a_safety_check_failing_mid_run_settles_a_later_attempt_by_asking_alpaca(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    # The account is read again for every order here: the failing check is met at once.
    fallback = FallbackBroker(
        make_broker(alpaca_emulator, account_max_age_s=1e-6), SimulatedBroker(delay_ms=0)
    )
    placed = trade()
    first = await fallback.execute(placed)  # ... and its worker died before recording the fill
    assert isinstance(first, Execution)
    alpaca_emulator.admin.configure(account_number="LA00LIVE001")  # the keys now open a live account

    again = await fallback.execute(placed, first_attempt=False)

    assert isinstance(again, Execution) and again.execution_method == "alpaca"
    assert again.alpaca_order_id == first.alpaca_order_id and fallback.disabled_reason
    assert len(alpaca_emulator.admin.order_requests(str(placed.trade_id))) == 1  # nothing sent to it
    await fallback.close()
