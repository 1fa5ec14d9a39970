"""A RabbitMQ node of the campaign's own: the same server the machine runs, started beside it on free ports.

The campaign stops and restarts RabbitMQ on purpose. On the machine's node that would pull RabbitMQ from
under every other test of the session (they run beside the campaign on the other core) and every other
run on the machine; on a node of its own, it takes down only the campaign's stack. The node keeps its data
in a temporary directory (quorum queues survive its `stop_app`/`start_app`) and is stopped and deleted by
`close()`.

`rabbitmq-server` runs as the `rabbitmq` user when started by root (Debian's wrapper does that), so the
directory is handed to that user, and the node shares the machine node's Erlang cookie.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from workers.console.stack.ports import free_port

STARTUP_TIMEOUT_S = 90.0


class RabbitNodeUnavailable(RuntimeError):
    """The private node could not be started."""


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class RabbitNode:
    """`start()` it, use `url`, `stop_app()`/`start_app()` it, and `close()` it."""

    def __init__(self) -> None:
        self.name = f"tradeflow-faults-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tradeflow-rabbitmq-"))
        self.started = False

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    @property
    def log_path(self) -> Path:
        return self.dir / "log" / f"{self.name}.log"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.dir / "node.pid"),
        }

    def start(self) -> RabbitNode:
        """Boot the node; once more, under a fresh name and directory, if it never listened (one CI run met
        a node that exited without a word while the machine was loaded; the ports stay, the cluster's URL
        is handed out before it boots). A second failure says what the node's log ends with."""
        if shutil.which("rabbitmq-server") is None or shutil.which("rabbitmqctl") is None:
            raise RabbitNodeUnavailable("rabbitmq-server and rabbitmqctl are needed for the campaign's node")
        try:
            return self._start()
        except RabbitNodeUnavailable as first:
            self.name = f"tradeflow-faults-{uuid.uuid4().hex[:8]}@localhost"
            self.dir = Path(tempfile.mkdtemp(prefix="tradeflow-rabbitmq-"))
            try:
                return self._start()
            except RabbitNodeUnavailable as second:
                raise second from first

    def _start(self) -> RabbitNode:
        for sub in ("mnesia", "log"):
            (self.dir / sub).mkdir()
        # guest may connect from loopback only (RabbitMQ's default); no plugin: no management port to clash
        (self.dir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (self.dir / "enabled_plugins").write_text("[].\n")
        self.dir.chmod(0o755)
        if os.geteuid() == 0:  # the server and rabbitmqctl run as `rabbitmq`: its directory must be theirs
            try:
                owner = pwd.getpwnam("rabbitmq")
            except KeyError:
                owner = None
            if owner is not None:
                for path in (self.dir, *self.dir.rglob("*")):
                    os.chown(path, owner.pw_uid, owner.pw_gid)
        done = subprocess.run(
            ["rabbitmq-server", "-detached"], env=self._env(), cwd=tempfile.gettempdir(), capture_output=True
        )
        self.started = True  # whatever it said, close() makes sure nothing is left running
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _port_open(self.port):
            if time.monotonic() > deadline:
                said = done.stderr.decode(errors="replace")[-500:]
                logged = self._log_tail()
                self.close()
                raise RabbitNodeUnavailable(
                    f"RabbitMQ node {self.name} did not listen on {self.port} within "
                    f"{STARTUP_TIMEOUT_S:.0f}s (rabbitmq-server exited {done.returncode}: {said}); "
                    f"its log ends: {logged}"
                )
            time.sleep(0.1)
        self.ctl("await_startup", "--timeout", str(int(STARTUP_TIMEOUT_S)))
        return self

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """`rabbitmqctl -n NODE -q ARGS`, on this node only."""
        return subprocess.run(
            ["rabbitmqctl", "-n", self.name, "-q", *args], env=self._env(), capture_output=True, check=check
        )

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self, check: bool = True) -> None:
        self.ctl("start_app", check=check)
        self.ctl("await_startup", check=check)

    def _log_tail(self, limit: int = 1500) -> str:
        logs = sorted((self.dir / "log").glob("*.log")) if (self.dir / "log").exists() else []
        text = "".join(path.read_text(errors="replace") for path in logs)
        return text[-limit:] or "(no log)"

    def close(self) -> None:
        """Stop the node (the whole Erlang VM) and delete its directory."""
        if self.started:
            self.started = False
            stopped = self.ctl("stop", check=False)
            pid_file = self.dir / "node.pid"
            if stopped.returncode != 0 and pid_file.exists():
                with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
                    os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
            deadline = time.monotonic() + 30
            while _port_open(self.port) and time.monotonic() < deadline:
                time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)
