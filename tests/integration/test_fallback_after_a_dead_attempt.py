"""A later attempt at a trade (its first worker was killed mid-order) never simulates on a guess: with
Alpaca unreachable for the order, it simulates only once Alpaca says it holds no order for the trade."""

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


async def test_with_no_order_at_alpaca_a_later_attempt_may_simulate(
    fallback: FallbackBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    _account_down(alpaca_emulator)
    result = await fallback.execute(trade(), first_attempt=False)
    assert isinstance(result, Execution) and result.execution_method == "simulation"


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
