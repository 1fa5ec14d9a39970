"""Alpaca's rate limit at the emulator: per API key and per API, a 429 with Alpaca's body and headers."""

from __future__ import annotations

import time

import pytest
import requests
from alpaca.common.exceptions import APIError

from emulators.alpaca import AlpacaEmulator
from emulators.alpaca.__main__ import parse_args
from emulators.alpaca.config import EmulatorConfig
from tests.fixtures_alpaca import trading_client
from tests.waiting import eventually


def get(emulator: AlpacaEmulator, path: str, *, key: str | None = None) -> requests.Response:
    headers = {
        "APCA-API-KEY-ID": key or emulator.key_id,
        "APCA-API-SECRET-KEY": emulator.secret_key,
    }
    return requests.get(f"{emulator.origin}{path}", headers=headers, timeout=5)


def test_alpacas_documented_200_a_minute_is_the_default_of_both_apis_and_of_the_command() -> None:
    config = EmulatorConfig()
    assert (config.rate_limit, config.data_rate_limit, config.rate_limit_window_s) == (200, 200, 60)
    args = parse_args([])
    assert (args.rate_limit, args.data_rate_limit) == (200, 200)


def test_every_answer_counts_down_and_the_request_past_the_limit_is_a_429_with_alpacas_body(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    alpaca_emulator.admin.configure(rate_limit=3)
    answers = [get(alpaca_emulator, "/paper/v2/account") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    reset = int(answers[0].headers["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 60

    refused = get(alpaca_emulator, "/paper/v2/clock")

    assert refused.status_code == 429
    assert refused.json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) == reset
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    window = alpaca_emulator.admin.rate_limits()
    assert window["trading"]["keys"][alpaca_emulator.key_id]["used"] == 3
    assert window["refused"] == 1


def test_alpaca_py_sees_the_refusal_as_its_api_error_429(alpaca_emulator: AlpacaEmulator) -> None:
    alpaca_emulator.admin.configure(rate_limit=1)
    client = trading_client(alpaca_emulator)
    client._retry = 0  # alpaca-py's own resend of a 429 off, as tradeflow runs it
    client.get_clock()
    with pytest.raises(APIError) as raised:
        client.get_clock()
    assert (raised.value.status_code, raised.value.code) == (429, 42910000)


def test_the_trading_and_market_data_apis_each_have_their_own_budget(alpaca_emulator: AlpacaEmulator) -> None:
    alpaca_emulator.admin.configure(rate_limit=1, data_rate_limit=2)
    assert get(alpaca_emulator, "/paper/v2/account").status_code == 200
    assert get(alpaca_emulator, "/paper/v2/account").status_code == 429
    quotes = [get(alpaca_emulator, "/v2/stocks/quotes/latest?symbols=AAPL") for _ in range(3)]
    assert [q.status_code for q in quotes] == [200, 200, 429]
    assert quotes[0].headers["X-RateLimit-Limit"] == "2"


def test_a_request_with_a_key_alpaca_refuses_spends_nothing_of_the_accounts_budget(
    alpaca_emulator: AlpacaEmulator,
) -> None:
    alpaca_emulator.admin.configure(rate_limit=1)
    assert get(alpaca_emulator, "/paper/v2/account", key="PKSOMEONEELSE").status_code == 401
    assert get(alpaca_emulator, "/paper/v2/account").status_code == 200


def test_the_budget_comes_back_when_the_window_resets(alpaca_emulator: AlpacaEmulator) -> None:
    alpaca_emulator.admin.configure(rate_limit=1, rate_limit_window_s=1)
    assert get(alpaca_emulator, "/paper/v2/clock").status_code == 200
    eventually(lambda: get(alpaca_emulator, "/paper/v2/clock").status_code == 200, timeout=3)


def test_a_limit_of_zero_turns_it_off_and_sends_no_rate_headers(alpaca_emulator: AlpacaEmulator) -> None:
    alpaca_emulator.admin.configure(rate_limit=0)
    answers = [get(alpaca_emulator, "/paper/v2/clock") for _ in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert "X-RateLimit-Limit" not in answers[-1].headers


def test_a_reset_opens_a_fresh_window(alpaca_emulator: AlpacaEmulator) -> None:
    alpaca_emulator.admin.configure(rate_limit=1)
    get(alpaca_emulator, "/paper/v2/clock")
    alpaca_emulator.admin.reset(rate_limit=1)
    assert get(alpaca_emulator, "/paper/v2/clock").status_code == 200


def test_every_asset_is_listed_in_one_request(alpaca_emulator: AlpacaEmulator) -> None:
    client = trading_client(alpaca_emulator)
    assets = {asset.symbol: asset for asset in client.get_all_assets()}
    assert assets["AAPL"].tradable and "BRK.B" in assets
    assert alpaca_emulator.admin.request_count("GET", "/v2/assets") == 1
