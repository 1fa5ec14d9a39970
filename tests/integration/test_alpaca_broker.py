"""AlpacaPaperBroker against the Alpaca emulator over real sockets: fills, faults, and never two orders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from brokers.alpaca import AlpacaPaperBroker
from brokers.fallback import FallbackBroker
from brokers.paper_guard import PaperGuard, PaperGuardFailed
from brokers.port import BrokerUnavailable
from brokers.simulated import SimulatedBroker
from emulators.alpaca import AlpacaEmulator
from messages.trade import Execution, ExecutionError, OrderPending
from tests.fixtures_alpaca import make_broker
from tests.unit.fakes import trade
from tests.waiting import eventually
from workers.console.stack.ports import free_port


@pytest.fixture
async def alpaca(alpaca_emulator: AlpacaEmulator) -> AsyncIterator[AlpacaPaperBroker]:
    broker = make_broker(alpaca_emulator)
    yield broker
    await broker.close()


async def test_a_market_order_fills_with_the_seeds_record(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    t = trade(quantity=Decimal(10))
    result = await alpaca.execute(t)
    assert isinstance(result, Execution)
    assert result.execution_method == "alpaca" and result.alpaca_order_id
    assert result.filled_quantity == Decimal(10)
    [order] = alpaca_emulator.admin.orders(str(t.trade_id))
    assert order["id"] == result.alpaca_order_id
    assert result.execution_price == Decimal(order["filled_avg_price"])
    # slippage is measured against the mid quote taken before the order, positive when worse
    expected = (result.execution_price - result.reference_price) / result.reference_price * 10_000
    assert result.slippage_bps == expected.quantize(Decimal("0.01"))
    assert result.execution_time_ms > 0


async def test_three_partial_fills_give_their_sum_at_their_average(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    alpaca_emulator.admin.configure(partial_fills=3)
    t = trade(quantity=Decimal(9))
    result = await alpaca.execute(t)
    assert isinstance(result, Execution)
    [order] = alpaca_emulator.admin.orders(str(t.trade_id))
    executions = alpaca_emulator.admin.executions(order["id"])
    assert len(executions) == 3
    quantity = sum(Decimal(str(e["qty"])) for e in executions)
    vwap = sum(Decimal(str(e["qty"])) * Decimal(str(e["price"])) for e in executions) / quantity
    assert result.filled_quantity == quantity == Decimal(9)
    assert result.execution_price == vwap.quantize(Decimal("0.0001"))


async def test_the_ambiguous_drop_ends_in_one_order_found_by_client_order_id(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    alpaca_emulator.admin.add_fault("drop_connection", method="POST", path="/v2/orders", phase="after")
    t = trade()
    result = await alpaca.execute(t)
    assert isinstance(result, Execution) and result.execution_method == "alpaca"
    assert len(alpaca_emulator.admin.orders(str(t.trade_id))) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "http_error", "status": 503, "phase": "after"},
        {"kind": "slow", "delay_s": 2.0, "phase": "after"},
    ],
)
async def test_a_5xx_or_timeout_after_acceptance_is_looked_up_not_resent(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator, fault: dict[str, Any]
) -> None:
    alpaca_emulator.admin.add_fault(fault.pop("kind"), method="POST", path="/v2/orders", **fault)
    t = trade()
    result = await alpaca.execute(t)
    assert isinstance(result, Execution)
    assert len(alpaca_emulator.admin.orders(str(t.trade_id))) == 1


async def test_a_request_lost_before_acceptance_stays_unknown_not_simulated(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    broker = make_broker(alpaca_emulator, fill_timeout_s=1.0)
    alpaca_emulator.admin.add_fault("drop_connection", method="POST", path="/v2/orders", phase="before")
    fallback = FallbackBroker(broker, SimulatedBroker(delay_ms=0))
    try:
        result = await fallback.execute(trade())
    finally:
        await fallback.close()
    assert isinstance(result, OrderPending) and result.state == "unknown"  # not simulated
    assert alpaca_emulator.admin.orders() == []


async def test_executing_the_same_trade_twice_places_one_order(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    t = trade()
    first, second = await alpaca.execute(t), await alpaca.execute(t)
    assert isinstance(first, Execution) and isinstance(second, Execution)
    assert first.alpaca_order_id == second.alpaca_order_id
    assert len(alpaca_emulator.admin.orders(str(t.trade_id))) == 1


async def test_a_resting_limit_is_working_then_fills_when_the_price_crosses(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    broker = make_broker(alpaca_emulator, fill_timeout_s=0.5)
    try:
        price = Decimal(str(alpaca_emulator.admin.prices("AAPL")["AAPL"]["mid"]))
        limit = (price * Decimal("0.9")).quantize(Decimal("0.01"))
        t = trade(order_type="limit", limit_price=limit, time_in_force="gtc")
        first = await broker.execute(t)
        assert isinstance(first, OrderPending) and first.state == "working" and first.alpaca_order_id
        alpaca_emulator.admin.set_price("AAPL", limit - Decimal(1))
        settled = await broker.resume(t, first.alpaca_order_id)
        for _ in range(10):
            if isinstance(settled, Execution):
                break
            settled = await broker.resume(t, first.alpaca_order_id)
        assert isinstance(settled, Execution) and settled.execution_price <= limit
        assert len(alpaca_emulator.admin.orders(str(t.trade_id))) == 1
    finally:
        await broker.close()


async def test_refusals_become_the_seeds_error_codes(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    alpaca_emulator.admin.add_fault("refuse_buying_power")
    refused = await alpaca.execute(trade())
    assert isinstance(refused, ExecutionError) and refused.code == "INSUFFICIENT_BUYING_POWER"
    alpaca_emulator.admin.add_fault("reject")
    rejected = await alpaca.execute(trade())
    assert isinstance(rejected, ExecutionError) and rejected.code == "ORDER_REJECTED"


async def test_market_conditions_come_from_the_clock_asset_and_account(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    open_now = await alpaca.conditions("AAPL")
    assert open_now.tradable and open_now.market_open and open_now.buying_power == Decimal(1_000_000)
    unknown = await alpaca.conditions("ZZZZ")
    assert unknown.tradable is False and unknown.listed is False  # Alpaca lists no such asset
    assert open_now.listed and (await alpaca.conditions("F")).tradable  # any asset Alpaca trades
    # Alpaca's latest-quotes answer leaves out a symbol it has no quote for: no price, not a KeyError
    assert await alpaca.reference_price("ZZZZ") is None


async def test_the_clock_is_read_once_and_trusted_until_the_close_it_announced(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    admin = alpaca_emulator.admin
    admin.configure(auto_clock=True)  # the emulator closes on its own schedule, as Alpaca does
    admin.open_market(next_close=datetime.now(UTC) + timedelta(seconds=1.5))
    for _ in range(3):
        assert (await alpaca.conditions("AAPL")).market_open
    assert admin.request_count("GET", "/v2/clock") == 1
    assert admin.request_count("GET", "/v2/assets") == 1  # every asset, in one request
    assert admin.request_count("GET", "/v2/account") == 1

    await asyncio.to_thread(eventually, lambda: not admin.clock()["is_open"], 5)
    assert (await alpaca.conditions("AAPL")).market_open is False  # the announced close passed: read again
    assert admin.request_count("GET", "/v2/clock") == 2


async def test_alpaca_down_before_the_submit_falls_back_to_simulation() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    broker = AlpacaPaperBroker(
        api_key="PKTEST",
        secret_key="s",
        base_url=f"{nowhere}/paper",
        data_url=nowhere,
        guard=PaperGuard(api_key="PKTEST", base_url=f"{nowhere}/paper", environment="test"),
        request_timeout_s=1.0,
    )
    with pytest.raises(BrokerUnavailable):
        await broker.execute(trade())
    fallback = FallbackBroker(broker, SimulatedBroker(delay_ms=0))
    result = await fallback.execute(trade())
    await fallback.close()
    assert isinstance(result, Execution) and result.execution_method == "simulation"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"api_key": "AKLIVE00000000000001"}, "PK"),
        ({"base_url": "{origin}"}, "paper"),
        ({"environment": "production"}, "production"),
    ],
)
async def test_each_configuration_check_fails_closed_and_sends_nothing(
    alpaca_emulator: AlpacaEmulator, overrides: dict[str, str], words: str
) -> None:
    overrides = {k: v.format(origin=alpaca_emulator.origin) for k, v in overrides.items()}
    broker = make_broker(alpaca_emulator, **overrides)
    try:
        with pytest.raises(PaperGuardFailed, match=words):
            await broker.execute(trade(trade_id=uuid.uuid4()))
        fallback = FallbackBroker(broker, SimulatedBroker(delay_ms=0))
        result = await fallback.execute(trade())
        assert isinstance(result, Execution) and result.execution_method == "simulation"
        assert fallback.disabled_reason and words in fallback.disabled_reason
    finally:
        await broker.close()
    assert alpaca_emulator.admin.orders() == []


async def test_a_market_order_partly_filled_at_the_timeout_reports_what_filled(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    alpaca_emulator.admin.configure(partial_fills=3, partial_interval_ms=3000)
    broker = make_broker(alpaca_emulator, fill_timeout_s=1.0)
    try:
        t = trade(quantity=Decimal(9))
        result = await broker.execute(t)
    finally:
        await broker.close()
    assert isinstance(result, Execution) and result.filled_quantity == Decimal(3)
    [order] = alpaca_emulator.admin.orders(str(t.trade_id))
    assert order["status"] == "canceled" and Decimal(order["filled_qty"]) == Decimal(3)


async def test_a_market_order_unfilled_at_the_timeout_is_canceled_as_fill_timeout(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    alpaca_emulator.admin.configure(fill_delay_ms=5000)
    broker = make_broker(alpaca_emulator, fill_timeout_s=0.5)
    try:
        result = await broker.execute(trade())
    finally:
        await broker.close()
    assert isinstance(result, ExecutionError) and result.code == "FILL_TIMEOUT"
    [order] = alpaca_emulator.admin.orders()
    assert order["status"] == "canceled"


async def test_a_live_account_number_fails_closed_and_sends_nothing(alpaca_emulator: AlpacaEmulator) -> None:
    alpaca_emulator.admin.reset(account_number="LV2XXXXXXXX")  # the keys open a live account
    broker = make_broker(alpaca_emulator)
    fallback = FallbackBroker(broker, SimulatedBroker(delay_ms=0))
    try:
        with pytest.raises(PaperGuardFailed, match="account number"):
            await broker.execute(trade())
        result = await fallback.execute(trade())
    finally:
        await fallback.close()
    assert isinstance(result, Execution) and result.execution_method == "simulation"
    assert alpaca_emulator.admin.orders() == []
