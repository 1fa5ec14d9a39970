"""Fixtures the dead-letter tool tests share: settings on a queue prefix, a queue reader, failing stages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures_rabbitmq import QueueReader
from tests.integration.dlq_helpers import FailingStages
from workers.settings import Settings, load_settings


@pytest.fixture
def settings(rabbitmq_url: str, queue_prefix: str) -> Settings:
    return load_settings(
        {
            "RABBITMQ_URL": rabbitmq_url,
            "TRADEFLOW_QUEUE_PREFIX": queue_prefix,
            "TRADEFLOW_MAX_RETRIES": "1",
            "TRADEFLOW_STORE_OUTAGE_BUDGET_S": "0",  # a throttled stage dead-letters at once here
            "TRADEFLOW_MIN_BACKOFF_MS": "20",
            "TRADEFLOW_MAX_BACKOFF_MS": "50",
        }
    )


@pytest.fixture
def reader(rabbitmq_url: str) -> Iterator[QueueReader]:
    reader = QueueReader(rabbitmq_url)
    yield reader
    reader.close()


@pytest.fixture
def failing(settings: Settings) -> Iterator[FailingStages]:
    stages = FailingStages(settings)
    yield stages
    stages.stop()
