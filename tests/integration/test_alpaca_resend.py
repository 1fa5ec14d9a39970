"""alpaca-py resends nothing for tradeflow: every resend is tradeflow's own, and an order request is never
resent blindly. An answer that may follow an earlier send of the order means "look it up" first.

On the pinned alpaca-py, RESTClient resends a 429 or 504 answer three times, 3 s apart, and reports the
last answer: an order accepted and answered 504 whose resends meet 429, 401 or 403 read as "nothing was
placed", "bad credentials" or "no buying power" while the order lives (issue 13, defect 2).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.requests import StockLatestQuoteRequest

from brokers.alpaca import AlpacaPaperBroker
from brokers.alpaca_client import data_client, trading_client
from brokers.fallback import FallbackBroker
from brokers.simulated import SimulatedBroker
from emulators.alpaca import AlpacaEmulator
from messages.trade import Execution
from tests.emulators.alpaca_order_helpers import market
from tests.fixtures_alpaca import make_broker
from tests.unit.fakes import trade

ORDERS = "/v2/orders"


@pytest.fixture
async def alpaca(alpaca_emulator: AlpacaEmulator) -> AsyncIterator[AlpacaPaperBroker]:
    broker = make_broker(alpaca_emulator)
    yield broker
    await broker.close()


def test_alpaca_pys_own_resend_is_off_on_the_pinned_client(alpaca_emulator: AlpacaEmulator) -> None:
    client = trading_client(
        api_key=alpaca_emulator.key_id,
        secret_key=alpaca_emulator.secret_key,
        base_url=alpaca_emulator.base_url,
        timeout_s=1.0,
    )
    alpaca_emulator.admin.add_fault("http_error", status=504, method="POST", path=ORDERS, phase="after")

    with pytest.raises(APIError) as raised:
        client.submit_order(market(client_order_id="t-once"))

    assert raised.value.status_code == 504  # the answer to the one request sent, not to a resend
    assert [r["status"] for r in alpaca_emulator.admin.order_requests("t-once")] == [504]


def test_the_data_client_resends_nothing_either(alpaca_emulator: AlpacaEmulator) -> None:
    client = data_client(
        api_key=alpaca_emulator.key_id,
        secret_key=alpaca_emulator.secret_key,
        data_url=alpaca_emulator.data_url,
        timeout_s=1.0,
    )
    alpaca_emulator.admin.add_fault("http_error", status=429, path="/v2/stocks/*", times=None)
    with pytest.raises(APIError):
        client.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="AAPL"))

    assert sum(alpaca_emulator.admin.requests()["counts"].values()) == 1


@pytest.mark.parametrize("resend_status", [429, 403, 422])
async def test_an_order_answered_504_is_looked_up_and_settled_whatever_a_resend_would_meet(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator, resend_status: int
) -> None:
    alpaca_emulator.admin.accept_then_504(resend_status=resend_status)
    placed = trade()

    result = await alpaca.execute(placed)

    assert isinstance(result, Execution) and result.execution_method == "alpaca"
    [order] = alpaca_emulator.admin.orders(str(placed.trade_id))
    assert result.alpaca_order_id == order["id"]
    assert [r["status"] for r in alpaca_emulator.admin.order_requests(str(placed.trade_id))] == [504]


async def test_an_order_answered_504_then_401_is_never_simulated(alpaca_emulator: AlpacaEmulator) -> None:
    fallback = FallbackBroker(make_broker(alpaca_emulator), SimulatedBroker(delay_ms=0))
    alpaca_emulator.admin.accept_then_504(resend_status=401)
    placed = trade()
    try:
        result = await fallback.execute(placed)  # a first attempt: it could fall back, were nothing sent
    finally:
        await fallback.close()

    assert isinstance(result, Execution) and result.execution_method == "alpaca"
    assert len(alpaca_emulator.admin.orders(str(placed.trade_id))) == 1


async def test_a_read_alpaca_rate_limited_is_resent_by_tradeflow(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    alpaca_emulator.admin.add_fault("http_error", status=429, method="GET", path="/v2/account", times=1)

    result = await alpaca.execute(trade())

    assert isinstance(result, Execution)
    assert alpaca_emulator.admin.request_count("GET", "/v2/account") == 2  # tradeflow's one resend


async def test_a_later_attempt_finds_the_order_an_earlier_one_placed(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    placed = trade()
    first = await alpaca.execute(placed)  # ... and its worker died before recording the fill
    assert isinstance(first, Execution)

    again = await alpaca.execute(placed, first_attempt=False)

    assert isinstance(again, Execution) and again.alpaca_order_id == first.alpaca_order_id
    assert len(alpaca_emulator.admin.orders(str(placed.trade_id))) == 1


@pytest.mark.parametrize("resend_status", [429, 403, 401])
async def test_a_later_attempts_refusal_is_first_checked_against_the_order_an_earlier_one_sent(
    alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator, resend_status: int
) -> None:
    alpaca_emulator.admin.accept_then_504(resend_status=resend_status)
    placed = trade()
    earlier = _send_order(alpaca_emulator, str(placed.trade_id))  # accepted, answered 504; its worker dies
    assert earlier.status_code == 504

    result = await alpaca.execute(placed, first_attempt=False)  # its own request is refused

    assert isinstance(result, Execution) and result.execution_method == "alpaca"
    [order] = alpaca_emulator.admin.orders(str(placed.trade_id))
    assert result.alpaca_order_id == order["id"]


def _send_order(emulator: AlpacaEmulator, client_order_id: str) -> requests.Response:
    """An earlier attempt's order request, as it left that attempt's worker."""
    return requests.post(
        f"{emulator.base_url}/v2/orders",
        json={
            "symbol": "AAPL",
            "qty": "10",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "client_order_id": client_order_id,
        },
        headers={"APCA-API-KEY-ID": emulator.key_id, "APCA-API-SECRET-KEY": emulator.secret_key},
        timeout=5,
    )
