"""A three-node RabbitMQ cluster of the test's own (tests/faults/cluster.py): the queues are quorum queues
with a replica on every node, and a publisher given every node's URL keeps publishing, confirmed, when the
node it was connected to is killed; nothing published before is lost.

Right after the kill a publish may be refused (nacked) while the queue elects a leader among the nodes left,
as the ingress then tells the trader "not submitted": the publisher tries again, as the trader would."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
from dramatiq.errors import ConnectionClosed

from messages.events import SubmitTrade
from tests.faults.cluster import RabbitCluster
from tests.fixtures_dynamo import unavailable
from tests.waiting import eventually
from workers.chain.publisher import Publisher
from workers.chain.rabbitmq import connect_rabbitmq
from workers.console.checks.health import check_rabbitmq
from workers.console.trades.submit import build_command
from workers.settings import Settings, load_settings


@pytest.fixture(scope="module")
def cluster() -> Iterator[RabbitCluster]:
    if shutil.which("rabbitmq-server") is None:
        unavailable("rabbitmq-server is needed to start a cluster of the test's own")
    cluster = RabbitCluster().start()
    yield cluster
    cluster.close()


@pytest.fixture
def settings(cluster: RabbitCluster) -> Settings:
    return load_settings(
        {
            "RABBITMQ_URL": cluster.url,
            "TRADEFLOW_QUEUE_PREFIX": f"t{uuid.uuid4().hex[:8]}-",
            "OTEL_TRACES_EXPORTER": "none",
        }
    )


def confirmed(publisher: Publisher, command: SubmitTrade) -> bool:
    try:
        publisher.submit(command)
    except ConnectionClosed:  # nacked, or no node answered: not published
        return False
    return True


def queued(cluster: RabbitCluster, settings: Settings) -> int:
    connection = connect_rabbitmq(cluster.url)
    try:
        method = connection.channel().queue_declare(settings.queue("validation"), passive=True).method
        return int(method.message_count)
    finally:
        connection.close()


def test_publishing_goes_on_when_the_node_in_use_is_lost_and_nothing_is_lost(
    cluster: RabbitCluster, settings: Settings
) -> None:
    publisher = Publisher(settings)
    try:
        publisher.submit(build_command(user_id="U123", side="buy", symbol="AAPL", quantity="1"))
        assert cluster.queue_members(settings.tradeflow_queue_prefix)[settings.queue("validation")] == 3
        lost = cluster.busiest()
        assert lost is cluster.seed  # every client connects to the first URL that answers
        lost.kill()
        try:
            second = build_command(user_id="U123", side="buy", symbol="MSFT", quantity="2")
            eventually(lambda: confirmed(publisher, second), timeout=30, interval=1.0)
            eventually(lambda: queued(cluster, settings) >= 2, timeout=30)  # a doubt resent: twice
            [health] = [c for c in check_rabbitmq(settings) if c.name == "rabbitmq"]
            assert health.ok
        finally:
            lost.boot()
    finally:
        publisher.close()
    assert cluster.running_nodes() == {node.name for node in cluster.nodes}
    eventually(lambda: queued(cluster, settings) >= 2, timeout=30)  # a doubt resent: twice
