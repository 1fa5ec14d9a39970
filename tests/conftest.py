"""The suite's shared fixtures (the plugins below) and the order its modules run in.

`make test` runs the suite over both cores with four pytest-xdist workers, one module at a time per worker
(`--dist loadscope --no-loadscope-reorder`): each worker takes the next module in the order below when it
is free. The longest modules go first, so the short ones fill the end of the run on every worker instead of
one worker finishing a long module alone; the ones that start RabbitMQ clusters of their own run after the
fault campaign, on its worker.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = [
    "tests.fixtures_dynamo",
    "tests.fixtures_rabbitmq",
    "tests.fixtures_alpaca",
    "tests.fixtures_slack",
    "tests.worker_timeline",
]

# Modules that take the longest (pytest --durations names them), first; then whole directories, slowest
# first. A module not named keeps its place within its directory.
FIRST = (
    "tests/faults/test_campaign.py",
    "tests/e2e/test_alpaca_flow.py",
    "tests/e2e/test_order_lifecycle.py",
    "tests/e2e/test_order_kinds.py",
    "tests/e2e/test_access.py",
    "tests/e2e/test_doctor.py",
    "tests/e2e/test_dlq_story.py",
    "tests/contract/test_table_upgrade_contract.py",
    "tests/contract/test_table_upgrade_user_trades_contract.py",
    "tests/contract/test_table_upgrade_trades_by_day_contract.py",
    "tests/e2e/test_up.py",
    "tests/e2e/test_trade_flow.py",
    "tests/e2e/test_trader_views.py",
    "tests/e2e/test_audit_chain.py",
    "tests/e2e/test_slack_flow.py",
    "tests/e2e/test_rate_limit.py",
    "tests/e2e/test_logging.py",
    "tests/e2e/test_report.py",
    "tests/unit/test_console.py",
    "tests/e2e/test_reconcile.py",
    "tests/e2e/test_no_secrets.py",
    "tests/e2e/test_health.py",
    "tests/e2e/test_accounts.py",
    "tests/integration/test_slack_notifier.py",
    # `make test-fast`'s longest, first among its own
    "tests/unit/test_worker_exit.py",
    "tests/contract/test_broker_contract.py",
    "tests/contract/test_chain_head_hints.py",
    "tests/contract/test_open_trades_contract.py",
    "tests/contract/test_trade_contract.py",
)
# Modules that start a RabbitMQ cluster or a whole stack of their own: last, and on the fault campaign's
# worker (one scope with it, `pytest_xdist_make_scheduler`), so they never run beside the campaign's three
# RabbitMQ nodes. Beside it, the cluster test took 118 s and the whole run doubled its CPU (714 s). Run last
# on whichever worker was free, they ended the run alone: 40 s with one of the two cores idle.
LAST = (
    "tests/integration/test_rabbitmq_cluster.py",
    "tests/integration/test_up_owns_its_children.py",
)
CAMPAIGN_WORKER = ("tests/faults/test_campaign.py", *LAST)
DIRECTORIES = (
    "tests/faults/",
    "tests/e2e/",
    "tests/integration/",
    "tests/emulators/",
    "tests/contract/",
    "tests/fuzz/",
    "tests/unit/",
)


def _rank(path: str) -> tuple[int, int]:
    if path in FIRST:
        return 0, FIRST.index(path)
    if path in LAST:
        return len(DIRECTORIES) + 2, LAST.index(path)
    for n, directory in enumerate(DIRECTORIES, start=1):
        if path.startswith(directory):
            return n, 0
    return len(DIRECTORIES) + 1, 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules in the order above, each one's tests together and in their own order (a stable sort)."""
    items.sort(key=lambda item: _rank(item.nodeid.split("::", 1)[0]))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope`, one module a scope, but CAMPAIGN_WORKER's modules one scope: a worker runs them one
    after another (in the order above: the campaign, then LAST)."""
    if config.getoption("dist", default="no") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModulesAndTheCampaignsWorker(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return CAMPAIGN_WORKER[0] if module in CAMPAIGN_WORKER else str(super()._split_scope(nodeid))

    return ModulesAndTheCampaignsWorker(config, log)
