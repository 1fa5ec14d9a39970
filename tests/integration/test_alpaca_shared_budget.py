"""Two processes sending for one Alpaca account share one budget in Redis: together they never send more
than the limit, and a 429 either one meets pauses the other too. Against the emulator at a tight limit."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Iterator

import pytest
from alpaca.common.exceptions import APIError

from brokers.alpaca_budget import AccountBudget, RateLimitWait
from brokers.alpaca_client import trading_client
from brokers.shared_state import RedisState
from emulators.alpaca import AlpacaEmulator
from workers.console.stack.services import ensure_redis, redis_answers

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def redis_url() -> str:
    if not redis_answers(REDIS_URL):
        if CI:
            raise RuntimeError(f"Redis is not running at {REDIS_URL}")
        pytest.skip(f"No Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    """Keys of this test's own, so runs never meet in the machine's Redis; removed afterwards."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    state = RedisState(redis_url)
    for key in state.client.scan_iter(f"{name}:*"):
        state.client.delete(key)
    state.close()


def _budget(emulator_env: dict[str, str], redis_url: str, namespace: str, limit: int) -> AccountBudget:
    return AccountBudget(
        RedisState(redis_url),
        api_key=emulator_env["ALPACA_PAPER_API_KEY"],
        server=emulator_env["ALPACA_PAPER_BASE_URL"],
        limits={"trading": limit, "data": limit},
        namespace=namespace,
    )


def _send_clock_reads(
    emulator_env: dict[str, str], redis_url: str, namespace: str, limit: int, tries: int, results: object
) -> None:
    """One process: `tries` clock reads through the shared budget; counts what left and what it held."""
    budget = _budget(emulator_env, redis_url, namespace, limit)
    client = trading_client(
        api_key=emulator_env["ALPACA_PAPER_API_KEY"],
        secret_key=emulator_env["ALPACA_PAPER_SECRET_KEY"],
        base_url=emulator_env["ALPACA_PAPER_BASE_URL"],
        timeout_s=5,
        budget=budget,
    )
    sent = held = refused_by_alpaca = 0
    for _ in range(tries):
        try:
            client.get_clock()
            sent += 1
        except RateLimitWait:
            held += 1
        except APIError as exc:
            refused_by_alpaca += exc.status_code == 429
    results.put((sent, held, refused_by_alpaca))  # type: ignore[attr-defined]


def test_two_processes_sharing_an_account_never_send_more_than_its_limit(
    alpaca_emulator: AlpacaEmulator, redis_url: str, namespace: str
) -> None:
    alpaca_emulator.admin.configure(rate_limit=25)
    env = alpaca_emulator.environment()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=_send_clock_reads, args=(env, redis_url, namespace, 25, 30, results))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)

    assert sum(sent for sent, _, _ in outcomes) == 25  # together, exactly the limit left
    assert sum(held for _, held, _ in outcomes) == 35  # the rest never left
    assert sum(refused for _, _, refused in outcomes) == 0
    window = alpaca_emulator.admin.rate_limits()
    assert window["trading"]["keys"][env["ALPACA_PAPER_API_KEY"]]["used"] == 25
    assert window["refused"] == 0  # Alpaca never had to say no


def test_a_429_one_process_meets_pauses_the_others_until_alpacas_reset(
    alpaca_emulator: AlpacaEmulator, redis_url: str, namespace: str
) -> None:
    env = alpaca_emulator.environment()
    one, other = (_budget(env, redis_url, namespace, 200) for _ in range(2))
    client = trading_client(
        api_key=env["ALPACA_PAPER_API_KEY"],
        secret_key=env["ALPACA_PAPER_SECRET_KEY"],
        base_url=env["ALPACA_PAPER_BASE_URL"],
        timeout_s=5,
        budget=one,
    )
    alpaca_emulator.admin.add_fault("http_error", status=429, path="/v2/clock", retry_after_s=2)

    with pytest.raises(APIError):
        client.get_clock()

    with pytest.raises(RateLimitWait) as held:
        other.take("trading")
    assert 0 < held.value.retry_after_s <= 2.5
    time.sleep(held.value.retry_after_s + 0.1)
    other.take("trading")  # Alpaca's reset passed: everyone sends again


def test_up_starts_no_second_redis_when_one_answers(redis_url: str) -> None:
    assert ensure_redis(redis_url) is False
