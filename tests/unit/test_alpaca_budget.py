"""The composition root gives each Alpaca attempt a budget that ends well inside the trade's order lease,
whatever the fill and request timeouts are (issue 13, defect 4)."""

from __future__ import annotations

import pytest

from brokers.alpaca import AlpacaPaperBroker
from brokers.fallback import FallbackBroker
from brokers.port import RateLimited
from workers.bootstrap import open_broker, reconcile_policy
from workers.console.checks.health import check_alpaca
from workers.console.stack.ports import free_port
from workers.settings import load_settings

WELL_INSIDE_S = 10.0  # time left in the lease, after the last request, for the outcome's write


@pytest.mark.parametrize(
    ("fill_timeout_s", "request_timeout_s"), [("30", "10"), ("5", "2"), ("30", "25"), ("300", "60")]
)
async def test_an_alpaca_attempt_ends_well_inside_its_order_lease(
    fill_timeout_s: str, request_timeout_s: str
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens: the start-up check logs and carries on
    settings = load_settings(
        {
            "ALPACA_PAPER_BASE_URL": f"{nowhere}/paper",
            "ALPACA_DATA_BASE_URL": nowhere,
            "TRADEFLOW_ALPACA_STREAM": "false",
            "TRADEFLOW_FILL_TIMEOUT_S": fill_timeout_s,
            "TRADEFLOW_ALPACA_TIMEOUT_S": request_timeout_s,
            "TRADEFLOW_ENV": "test",
        }
    )
    broker = await open_broker(settings)
    try:
        assert isinstance(broker, FallbackBroker) and isinstance(broker.primary, AlpacaPaperBroker)
        lease_s = reconcile_policy(settings).attempt_limit.total_seconds()
        budget_s = broker.primary.attempt_budget_s
        assert budget_s <= lease_s - WELL_INSIDE_S
        assert budget_s >= settings.tradeflow_fill_timeout_s  # room for the fill wait itself
    finally:
        await broker.close()


async def test_a_worker_starting_while_the_accounts_budget_is_spent_starts_and_health_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fault campaign: a 429 at start raised out of open_broker (RateLimited is no BrokerUnavailable),
    so `tradeflow health` printed a traceback, and a worker starting then would have died of it."""

    async def spent(self: AlpacaPaperBroker, *, by: float | None = None) -> str:
        raise RateLimited("the account's budget is spent", retry_after_s=10)

    monkeypatch.setattr(AlpacaPaperBroker, "verify", spent)
    settings = load_settings({"TRADEFLOW_ALPACA_STREAM": "false", "TRADEFLOW_ENV": "test"})

    broker = await open_broker(settings)
    try:
        assert isinstance(broker, FallbackBroker) and isinstance(broker.primary, AlpacaPaperBroker)
        assert broker.alpaca_enabled  # not disabled: the checks run again before every order
    finally:
        await broker.close()
    [alpaca, _budget] = await check_alpaca(settings)
    assert alpaca.ok and "not asked now" in alpaca.detail
