"""Boto sessions for AWS clients (the store's DynamoDB, the alerts' SNS): each client a session of its own,
every session of a process one loader of botocore's models.

A new session reads and parses the service's API model, the endpoints and their rules again: 80 ms of CPU a
client, more than a hundred DynamoDB requests cost. Sharing the loader (its cache is plain data, never
changed once loaded) opens a client after the first in 3 ms, and a process forked after `warm()` (the
tests' zygote) opens its first as cheaply. Each client keeps a session of its own, so the credentials a
session resolves on AWS (and the asyncio lock that refreshes them) stay with the event loop that opened it.
"""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit

from aiobotocore.session import AioSession
from botocore.loaders import Loader

_LOADER: Loader | None = None
_LOCK = threading.Lock()


def new_session() -> AioSession:
    """A session of its own on the process's loader (the first session's, kept)."""
    global _LOADER
    session = AioSession()
    with _LOCK:
        if _LOADER is None:
            _LOADER = session.get_component("data_loader")
        else:
            session.register_component("data_loader", _LOADER)
    return session


def verify_for(endpoint_url: str | None) -> bool | None:
    """False for a plain-HTTP endpoint (DynamoDB Local, the SNS emulator: no TLS, so no certificate to
    verify, and no CA bundle to load into an SSL context for every client, 20 ms of CPU each); None,
    botocore's default (verify with its CA bundle), for every HTTPS endpoint and AWS's own."""
    return False if endpoint_url and urlsplit(endpoint_url).scheme == "http" else None


def warm(services: tuple[str, ...] = ("dynamodb", "sns")) -> None:
    """Load what a client of each service needs into the process's loader, without a request (before
    forking)."""

    async def create(service: str) -> None:
        async with new_session().create_client(
            service,
            region_name="us-east-1",
            endpoint_url="http://127.0.0.1:9",  # never reached: no request is sent
            aws_access_key_id="warm",
            aws_secret_access_key="warm",
            verify=False,
        ):
            pass

    for service in services:
        asyncio.run(create(service))
