"""The alert tests' servers: moto's SNS on a free loopback port, started and stopped by the test module."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def moto_sns() -> Iterator[str]:
    """The endpoint of a moto server of the module's own (SNS among its services), threaded as `up` runs it.

    moto keeps its SNS backend per process, so a test tells its own SMS by a number of its own (`a_number`).
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def a_number() -> str:
    """A US number in E.164 form that no other test texts."""
    return f"+1555{random.randrange(10**6, 10**7)}"
