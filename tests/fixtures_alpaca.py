"""Pytest fixtures for the Alpaca emulator: one server for the session, reset before each test."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient

from brokers.alpaca import AlpacaPaperBroker
from brokers.alpaca_budget import account_id_of
from brokers.alpaca_views import QUOTES_KEY
from brokers.paper_guard import PaperGuard
from emulators.alpaca import AlpacaEmulator

# Fast enough for a quick suite, slow enough that a test sees each state an order passes through.
TEST_SETTINGS = {
    "starting_cash": Decimal(500_000),
    "fill_delay_ms": 20,
    "partial_interval_ms": 15,
    "tick_interval_ms": 100,
}


@pytest.fixture(scope="session")
def alpaca_emulator_server() -> Iterator[AlpacaEmulator]:
    emulator = AlpacaEmulator(**TEST_SETTINGS).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def alpaca_emulator(alpaca_emulator_server: AlpacaEmulator) -> AlpacaEmulator:
    """The session's emulator, back in its start state: no orders, positions, faults or listeners, and its
    account's shared rate budget unspent."""
    alpaca_emulator_server.admin.reset()
    forget_shared_state(alpaca_emulator_server)
    return alpaca_emulator_server


def forget_shared_state(emulator: AlpacaEmulator) -> None:
    """Delete what tradeflow's processes share in Redis about the emulator: the account's rate budget (its
    windows, pauses and queue) and the quotes read from its market data.

    The session's emulator is one account for every test of the session: a test that spent its budget, or
    paused it on a 429, would otherwise leave the next one waiting on Alpaca, or pricing by simulation; and
    a quote read by one test (AAPL at 190) would price the next test's trade after that test moved AAPL to
    200 (an approval asked for $9,500 where the test priced $10,000).
    """
    import redis

    account = account_id_of(emulator.key_id, emulator.base_url)
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    # without Redis, a test that needs it says so
    with contextlib.suppress(redis.ConnectionError), contextlib.closing(client):
        for pattern in (f"*{account}*", f"{QUOTES_KEY}:{emulator.data_url}*"):
            for key in client.scan_iter(match=pattern, count=1000):
                client.delete(key)


def trading_client(emulator: AlpacaEmulator, *, retry_wait_s: int | None = None) -> TradingClient:
    """alpaca-py's TradingClient on the emulator's /paper base URL.

    `retry_wait_s` sets the pause between alpaca-py's own resends of a 429/504 answer (3 s by default).
    RESTClient takes it as `retry_wait_seconds`, but TradingClient does not pass it through, so the
    attribute RESTClient stores it in is set here.
    """
    client = TradingClient(emulator.key_id, emulator.secret_key, paper=True, url_override=emulator.base_url)
    if retry_wait_s is not None:
        client._retry_wait = retry_wait_s
    return client


@pytest.fixture
def alpaca_trading_client(alpaca_emulator: AlpacaEmulator) -> TradingClient:
    return trading_client(alpaca_emulator)


@pytest.fixture
def alpaca_data_client(alpaca_emulator: AlpacaEmulator) -> StockHistoricalDataClient:
    return StockHistoricalDataClient(
        alpaca_emulator.key_id, alpaca_emulator.secret_key, url_override=alpaca_emulator.data_url
    )


def make_broker(emulator: AlpacaEmulator, **overrides: Any) -> AlpacaPaperBroker:
    values: dict[str, Any] = {
        "api_key": emulator.key_id,
        "secret_key": emulator.secret_key,
        "base_url": emulator.base_url,
        "data_url": emulator.data_url,
        "fill_timeout_s": 5.0,
        "request_timeout_s": 1.0,
    }
    values.update(overrides)
    environment = values.pop("environment", "test")
    guard = PaperGuard(api_key=values["api_key"], base_url=values["base_url"], environment=environment)
    broker = AlpacaPaperBroker(guard=guard, **values)
    broker.trading._retry_wait = 0  # alpaca-py's own 429/504 resends, without its 3 s pause
    return broker
