"""The resend faults, seen by stock alpaca-py (which resends a 429 or 504 itself, three times) and by
the traffic log: an order accepted and answered 504, then each resend of it refused as Alpaca would."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests
from alpaca.common.exceptions import APIError

from emulators.alpaca import AdminError, AlpacaEmulator
from tests.emulators.alpaca_order_helpers import market
from tests.fixtures_alpaca import trading_client
from tests.waiting import eventually

ORDERS = "/v2/orders"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text[:26] + "+00:00")  # the log's nanoseconds, to microseconds


def test_an_order_answered_504_then_429_to_every_resend_exists_once(alpaca_emulator: AlpacaEmulator) -> None:
    client = trading_client(alpaca_emulator, retry_wait_s=0)
    alpaca_emulator.admin.accept_then_504(resend_status=429)

    with pytest.raises(APIError) as raised:
        client.submit_order(market(client_order_id="t-504-429"))

    # alpaca-py reports the last resend's answer, Alpaca's rate limit, although the first was accepted
    assert (raised.value.status_code, raised.value.code) == (429, 42910000)
    assert raised.value.message == "rate limit exceeded"
    headers = raised.value.response.headers
    assert headers["X-RateLimit-Limit"] == "200" and headers["X-RateLimit-Remaining"] == "0"
    assert int(headers["X-RateLimit-Reset"]) > 0 and headers["Retry-After"] == "1"
    statuses = [r["status"] for r in alpaca_emulator.admin.order_requests("t-504-429")]
    assert statuses == [504, 429, 429, 429]
    [order] = alpaca_emulator.admin.orders("t-504-429")
    assert str(client.get_order_by_client_id("t-504-429").id) == order["id"]  # lookups find it


def test_a_504_then_a_buying_power_403_names_what_the_accepted_order_holds(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    client = trading_client(alpaca_emulator, retry_wait_s=0)
    alpaca_emulator.admin.accept_then_504(resend_status=403)

    with pytest.raises(APIError) as raised:
        client.submit_order(market(client_order_id="t-504-403"))

    assert (raised.value.status_code, raised.value.code) == (403, 40310000)
    assert raised.value.message == "insufficient buying power"
    assert len(alpaca_emulator.admin.orders("t-504-403")) == 1
    assert [r["status"] for r in alpaca_emulator.admin.order_requests("t-504-403")] == [504, 403]


def test_a_504_then_401_and_the_default_422(alpaca_emulator: AlpacaEmulator) -> None:
    client = trading_client(alpaca_emulator, retry_wait_s=0)
    alpaca_emulator.admin.accept_then_504(resend_status=401)
    with pytest.raises(APIError) as unauthorized:
        client.submit_order(market(client_order_id="t-504-401"))
    alpaca_emulator.admin.clear_faults()
    alpaca_emulator.admin.accept_then_504()
    with pytest.raises(APIError) as duplicate:
        client.submit_order(market(client_order_id="t-504-422"))

    assert (unauthorized.value.status_code, unauthorized.value.code) == (401, 40110000)
    assert (duplicate.value.status_code, duplicate.value.code) == (422, 40010001)
    assert (
        len(alpaca_emulator.admin.orders("t-504-401")) == len(alpaca_emulator.admin.orders("t-504-422")) == 1
    )


def test_only_the_accepted_orders_resends_are_refused(alpaca_emulator: AlpacaEmulator) -> None:
    client = trading_client(alpaca_emulator, retry_wait_s=0)
    fault = alpaca_emulator.admin.accept_then_504(resend_status=429)
    assert fault["phase"] == "after" and fault["path"] == ORDERS and fault["method"] == "POST"
    with pytest.raises(APIError):
        client.submit_order(market(client_order_id="t-first"))

    other = client.submit_order(market(client_order_id="t-other"))  # a new order goes through

    assert other.client_order_id == "t-other"
    [seen] = alpaca_emulator.admin.faults()
    assert seen["accepted"] == ["t-first"] and seen["resends"] == 3 and seen["remaining"] == 0


def test_a_resend_status_alpaca_would_not_answer_is_refused_by_the_admin_api(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    with pytest.raises(AdminError):
        alpaca_emulator.admin.accept_then_504(resend_status=500)


def test_a_slow_answer_outlives_the_callers_bound_while_the_order_exists(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    alpaca_emulator.admin.add_fault("slow", method="POST", path=ORDERS, delay_s=1.0, phase="after")
    endpoint = f"{alpaca_emulator.base_url}/v2/orders"
    headers = {"APCA-API-KEY-ID": alpaca_emulator.key_id, "APCA-API-SECRET-KEY": alpaca_emulator.secret_key}
    body = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}

    with ThreadPoolExecutor(1) as pool:
        sent = pool.submit(
            requests.post, endpoint, json={**body, "client_order_id": "t-slow"}, headers=headers, timeout=0.3
        )
        with pytest.raises(requests.ReadTimeout):  # the caller's bound passes first
            sent.result(timeout=5)
    eventually(lambda: alpaca_emulator.admin.order_requests("t-slow"), timeout=5)

    [order] = alpaca_emulator.admin.orders("t-slow")
    [request] = alpaca_emulator.admin.order_requests("t-slow")
    assert request["status"] == 200 and request["fault"] == "slow"
    answered_after = _instant(request["at"]) - _instant(request["received_at"])
    assert answered_after.total_seconds() >= 1.0  # it arrived at once and was answered a second later
    assert order["client_order_id"] == "t-slow"


def test_the_traffic_log_names_each_lookups_client_order_id(alpaca_emulator: AlpacaEmulator) -> None:
    client = trading_client(alpaca_emulator, retry_wait_s=0)
    client.submit_order(market(client_order_id="t-named"))
    client.get_order_by_client_id("t-named")

    logged = alpaca_emulator.admin.requests()["requests"]
    assert [(r["method"], r["route"], r["client_order_id"]) for r in logged] == [
        ("POST", ORDERS, "t-named"),
        ("GET", "/v2/orders:by_client_order_id", "t-named"),
    ]


def test_a_504_held_under_the_request_bound_makes_each_of_alpaca_pys_resends_as_slow(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    client = trading_client(alpaca_emulator, retry_wait_s=0)
    alpaca_emulator.admin.add_fault(
        "http_error", status=504, method="POST", path=ORDERS, answer_after_s=0.3, times=None
    )

    with pytest.raises(APIError) as raised:
        client.submit_order(market(client_order_id="t-slow-504"))

    assert raised.value.status_code == 504
    requests_seen = alpaca_emulator.admin.order_requests("t-slow-504")
    assert [r["status"] for r in requests_seen] == [504, 504, 504, 504]  # one call, four requests
    held = [_instant(r["at"]) - _instant(r["received_at"]) for r in requests_seen]
    assert all(h.total_seconds() >= 0.3 for h in held)
    assert alpaca_emulator.admin.orders() == []  # phase "before": nothing placed
