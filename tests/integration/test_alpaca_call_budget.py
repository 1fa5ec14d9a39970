"""Every Alpaca call of an attempt, resends and lookups included, ends inside the attempt's budget, which
the composition root sets well inside the trade's order lease: no thread of an attempt sends anything
after it (issue 13, defect 4). `run_in_executor` cannot be cancelled, so the bound lives in the thread.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from brokers.alpaca import AlpacaPaperBroker
from brokers.alpaca_client import NotSent, bounded_call, trading_client
from brokers.alpaca_reads import EXECUTION_QUOTE_AGE_S
from brokers.fallback import FallbackBroker
from brokers.paper_guard import PaperGuard
from brokers.port import BrokerUnavailable
from brokers.simulated import SimulatedBroker
from emulators.alpaca import AlpacaEmulator
from messages.trade import Execution, OrderPending
from tests.emulators.alpaca_order_helpers import market
from tests.fixtures_alpaca import make_broker
from tests.unit.fakes import trade
from tests.waiting import eventually

ORDERS = "/v2/orders"
LOOKUP = "/v2/orders:by_client_order_id"


def _received(emulator: AlpacaEmulator) -> list[datetime]:
    return [
        datetime.fromisoformat(r["received_at"][:26] + "+00:00")
        for r in emulator.admin.requests()["requests"]
    ]


async def test_an_attempt_whose_lookups_go_unanswered_ends_within_its_budget(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    broker = make_broker(alpaca_emulator, fill_timeout_s=5.0, request_timeout_s=1.0, attempt_budget_s=2.0)
    alpaca_emulator.admin.add_fault("http_error", status=504, method="POST", path=ORDERS, phase="after")
    alpaca_emulator.admin.add_fault("http_error", status=503, method="GET", path=LOOKUP, times=None)
    started = datetime.now(UTC)
    try:
        result = await broker.execute(trade())
    finally:
        await broker.close()

    assert isinstance(result, OrderPending) and result.state == "unknown"  # left to reconcile
    assert max(_received(alpaca_emulator)) < started + timedelta(seconds=2.0)
    assert len(alpaca_emulator.admin.orders()) == 1


async def test_a_slow_alpaca_is_never_sent_an_order_too_late_to_hear_back_within_the_budget(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    broker = make_broker(alpaca_emulator, request_timeout_s=1.0, attempt_budget_s=2.0)
    # Each read answers just inside the request bound: by the time the order could leave, too little
    # of the budget is left to send it and hear back.
    alpaca_emulator.admin.add_fault("slow", method="GET", path="*", delay_s=0.6, times=None)
    placed = trade()
    try:
        with pytest.raises(BrokerUnavailable, match="not sent"):
            await broker.execute(placed)
    finally:
        await broker.close()

    assert alpaca_emulator.admin.order_requests() == []


async def test_a_later_attempts_lookup_after_alpaca_failed_it_stays_inside_the_same_budget(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    # The later attempt reads the account and a quote again (neither is reused): two slow reads.
    broker = make_broker(
        alpaca_emulator,
        request_timeout_s=1.0,
        attempt_budget_s=2.0,
        account_max_age_s=1e-6,
        quote_max_age_s=1.0,
    )
    fallback = FallbackBroker(broker, SimulatedBroker(delay_ms=0))
    placed = trade()
    assert isinstance(await broker.execute(placed), Execution)  # ... and its worker died unrecorded
    await asyncio.sleep(EXECUTION_QUOTE_AGE_S + 0.1)  # its quote too old to serve the later attempt
    alpaca_emulator.admin.clear_requests()
    alpaca_emulator.admin.add_fault("slow", method="GET", path="*", delay_s=0.7, times=None)
    started = datetime.now(UTC)
    try:
        with pytest.raises(BrokerUnavailable):  # too slow to send, too slow to settle: retried later
            await fallback.execute(placed, first_attempt=False)
    finally:
        await fallback.close()

    assert max(_received(alpaca_emulator)) < started + timedelta(seconds=2.0)
    assert alpaca_emulator.admin.order_requests() == []


async def test_an_attempt_cancelled_by_the_stage_time_limit_sends_nothing_afterwards(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    guard = PaperGuard(api_key=alpaca_emulator.key_id, base_url=alpaca_emulator.base_url, environment="test")
    broker = AlpacaPaperBroker(  # alpaca-py's own resend pause left as it ships (3 s)
        api_key=alpaca_emulator.key_id,
        secret_key=alpaca_emulator.secret_key,
        base_url=alpaca_emulator.base_url,
        data_url=alpaca_emulator.data_url,
        guard=guard,
        request_timeout_s=1.0,
    )
    alpaca_emulator.admin.add_fault("http_error", status=504, method="POST", path=ORDERS, times=None)
    attempt = asyncio.create_task(broker.execute(trade()))
    await asyncio.to_thread(eventually, alpaca_emulator.admin.order_requests, 5)
    attempt.cancel()  # what dramatiq's TimeLimit does to the stage's coroutine
    cancelled = datetime.now(UTC)
    await asyncio.sleep(4.0)  # longer than alpaca-py's pause between resends
    await broker.close()

    assert [r for r in _received(alpaca_emulator) if r > cancelled + timedelta(seconds=1.0)] == []
    assert len(alpaca_emulator.admin.order_requests()) == 1


def test_a_call_whose_deadline_passed_before_its_thread_ran_sends_nothing(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    client = trading_client(
        api_key=alpaca_emulator.key_id,
        secret_key=alpaca_emulator.secret_key,
        base_url=alpaca_emulator.base_url,
        timeout_s=1.0,
    )
    with pytest.raises(NotSent):
        bounded_call(time.monotonic() - 0.1, client.submit_order, market(client_order_id="t-late"))

    assert alpaca_emulator.admin.order_requests() == []
    assert bounded_call(time.monotonic() + 5, client.get_account).account_number  # in time: sent
