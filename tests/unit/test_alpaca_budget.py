"""The composition root gives each Alpaca attempt a budget that ends well inside the trade's order lease,
whatever the fill and request timeouts are (issue 13, defect 4)."""

from __future__ import annotations

import pytest

from brokers.alpaca import AlpacaPaperBroker
from brokers.fallback import FallbackBroker
from workers.bootstrap import open_broker, reconcile_policy
from workers.console.stack.local_dynamodb import free_port
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
