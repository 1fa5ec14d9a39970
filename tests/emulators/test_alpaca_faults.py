"""Each injectable fault, seen the way alpaca-py sees it (including its own resends of 429 and 504)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from emulators.alpaca import AlpacaEmulator
from tests.fixtures_alpaca import trading_client
from tests.waiting import eventually

ORDERS = "/v2/orders"


def market(client_order_id: str, qty: float = 1) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol="AAPL",
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        client_order_id=client_order_id,
    )


@pytest.mark.parametrize(("status", "code"), [(500, 50010000), (503, 50310000)])
def test_server_errors_reach_the_client_and_place_nothing(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, status: int, code: int
) -> None:
    alpaca_emulator.admin.add_fault("http_error", status=status, method="POST", path=ORDERS)

    with pytest.raises(APIError) as raised:
        alpaca_trading_client.submit_order(market("t-5xx"))

    assert (raised.value.status_code, raised.value.code) == (status, code)
    assert alpaca_emulator.admin.orders() == []
    assert alpaca_trading_client.get_account().status  # the fault was used up by one request


def test_a_429_is_resent_by_alpaca_py_and_then_succeeds(alpaca_emulator: AlpacaEmulator) -> None:
    client = trading_client(alpaca_emulator, retry_wait_s=0)
    alpaca_emulator.admin.add_fault("http_error", status=429, method="POST", path=ORDERS, times=1)

    order = client.submit_order(market("t-429"))

    assert order.client_order_id == "t-429"
    assert alpaca_emulator.admin.request_count("POST", ORDERS) == 2
    assert len(alpaca_emulator.admin.orders("t-429")) == 1


def test_429_until_alpaca_py_gives_up_is_rate_limit_exceeded(alpaca_emulator: AlpacaEmulator) -> None:
    client = trading_client(alpaca_emulator, retry_wait_s=0)
    alpaca_emulator.admin.add_fault("http_error", status=429, path="/v2/account", times=None)

    with pytest.raises(APIError) as raised:
        client.get_account()

    assert (raised.value.status_code, raised.value.code) == (429, 42910000)
    assert raised.value.message == "rate limit exceeded"
    assert raised.value.response.headers["X-RateLimit-Remaining"] == "0"
    assert alpaca_emulator.admin.request_count("GET", "/v2/account") == 4  # 1 + alpaca-py's 3 resends


def test_a_504_after_acceptance_comes_back_as_a_duplicate_client_order_id(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    client = trading_client(alpaca_emulator, retry_wait_s=0)
    alpaca_emulator.admin.add_fault("http_error", status=504, method="POST", path=ORDERS, phase="after")

    with pytest.raises(APIError) as raised:
        client.submit_order(market("t-504"))

    # alpaca-py resent the order after the 504; the first one had been accepted (DESIGN §9).
    assert (raised.value.status_code, raised.value.code) == (422, 40010001)
    assert len(alpaca_emulator.admin.orders("t-504")) == 1
    assert client.get_order_by_client_id("t-504").client_order_id == "t-504"


def test_dropped_connection_after_acceptance_leaves_exactly_one_order(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    alpaca_emulator.admin.add_fault("drop_connection", method="POST", path=ORDERS)

    with pytest.raises(requests.ConnectionError):
        alpaca_trading_client.submit_order(market("t-drop"))

    assert [o["client_order_id"] for o in alpaca_emulator.admin.orders()] == ["t-drop"]
    found = alpaca_trading_client.get_order_by_client_id("t-drop")
    assert eventually(lambda: alpaca_trading_client.get_order_by_id(found.id).status is OrderStatus.FILLED)
    assert alpaca_emulator.admin.requests()["requests"][0]["status"] == "dropped"


def test_dropped_connection_before_acceptance_places_nothing(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    alpaca_emulator.admin.add_fault("drop_connection", method="POST", path=ORDERS, phase="before")

    with pytest.raises(requests.ConnectionError):
        alpaca_trading_client.submit_order(market("t-drop-before"))

    assert alpaca_emulator.admin.orders() == []


def test_slow_before_acceptance_places_the_order_after_the_client_gave_up(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    alpaca_emulator.admin.add_fault("slow", method="POST", path=ORDERS, delay_s=0.6, phase="before")

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(alpaca_trading_client.submit_order, market("t-slow-before"))
        with pytest.raises(FutureTimeout):
            pending.result(timeout=0.2)  # the caller's own deadline passes first
        assert alpaca_emulator.admin.orders() == []
        eventually(lambda: alpaca_emulator.admin.orders("t-slow-before"), timeout=5)
        assert pending.result(timeout=5).client_order_id == "t-slow-before"


def test_slow_after_acceptance_holds_the_answer_of_an_existing_order(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    alpaca_emulator.admin.add_fault("slow", method="POST", path=ORDERS, delay_s=0.6, phase="after")

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(alpaca_trading_client.submit_order, market("t-slow-after"))
        eventually(lambda: alpaca_emulator.admin.orders("t-slow-after"), timeout=5)
        assert not pending.done()
        assert pending.result(timeout=5).client_order_id == "t-slow-after"


def test_reject_accepts_the_order_then_rejects_it(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    alpaca_emulator.admin.add_fault("reject")

    order = alpaca_trading_client.submit_order(market("t-reject"))

    assert order.status is OrderStatus.PENDING_NEW
    rejected = eventually(
        lambda: (o := alpaca_trading_client.get_order_by_id(order.id)).status is OrderStatus.REJECTED and o
    )
    assert rejected.failed_at is not None and rejected.filled_qty == "0"
    assert alpaca_trading_client.get_all_positions() == []


def test_refusals_are_alpacas_403_and_422(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    alpaca_emulator.admin.add_fault("refuse_buying_power")
    alpaca_emulator.admin.add_fault("refuse_order", message='asset "AAPL" is not tradable')

    with pytest.raises(APIError) as buying_power:
        alpaca_trading_client.submit_order(market("t-bp"))
    with pytest.raises(APIError) as refused:
        alpaca_trading_client.submit_order(market("t-422"))

    assert (buying_power.value.status_code, buying_power.value.code) == (403, 40310000)
    assert (refused.value.status_code, refused.value.code) == (422, 42210000)
    assert refused.value.message == 'asset "AAPL" is not tradable'
    assert alpaca_emulator.admin.orders() == []
    assert alpaca_trading_client.submit_order(market("t-after")).client_order_id == "t-after"


def test_market_closed_fault_closes_the_clock(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    alpaca_emulator.admin.add_fault("market_closed")

    assert alpaca_trading_client.get_clock().is_open is False
    assert alpaca_trading_client.submit_order(market("t-closed")).status is OrderStatus.ACCEPTED


def test_faults_only_hit_matching_requests(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    fault = alpaca_emulator.admin.add_fault("http_error", status=500, method="POST", path=ORDERS, times=2)

    alpaca_trading_client.get_account()
    alpaca_trading_client.get_clock()

    assert fault["remaining"] == 2
    assert alpaca_emulator.admin.faults()[0]["hits"] == 0
