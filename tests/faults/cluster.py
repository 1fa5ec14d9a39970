"""A RabbitMQ cluster of the campaign's own: three nodes on loopback, quorum queues replicated on all three.

This is the deployment docs/deployment.md recommends for production. The first node is the campaign's own
node (tests/faults/rabbitmq_node.py); two more are started beside it, each with its own node name, AMQP and
distribution ports and data directory, and joined to it (`stop_app`, `join_cluster`, `start_app`). Every
tradeflow process is given all three URLs (RABBITMQ_URL, comma-separated) and connects to the first that
answers. The machine's own node (rabbit@localhost) is never touched: nothing joins it, nothing stops it.

`lose_node()` is the fault: the node most of the campaign's connections use is killed (kill -9 of its
Erlang VM, no goodbye to the cluster or its clients), stays down a while, and boots again from its data
directory, rejoining the cluster by itself. `close()` stops and deletes all three, whatever happened; a run
that crashed before its `close()` leaves nodes behind, and the next cluster stops and deletes those first
(`clean_leftovers`), knowing them by the owner file each node's directory holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.faults.rabbitmq_node import STARTUP_TIMEOUT_S, RabbitNode, RabbitNodeUnavailable, _port_open

OWNER_FILE = "owner"  # "<pid of the campaign> <node name>": a node whose campaign is gone is a leftover
SIZE = 3


class ClusterNode(RabbitNode):
    """A node of the cluster: a RabbitNode that can also be killed outright and booted again."""

    def start(self) -> ClusterNode:
        super().start()
        (self.dir / OWNER_FILE).write_text(f"{os.getpid()} {self.name}\n")
        return self

    def pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((self.dir / "node.pid").read_text().strip())
        return None

    def kill(self) -> None:
        """kill -9 the node's Erlang VM: its clients' connections drop, the cluster sees it vanish."""
        pid = self.pid()
        if pid is None:
            raise RabbitNodeUnavailable(f"{self.name} has no pid file to kill it by")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def boot(self, attempts: int = 2) -> None:
        """Start the node's VM again from its data directory: as a cluster member it rejoins by itself.
        A boot that does not listen in time is tried again (a loaded machine); then it is an error that
        says what the server and the node's log said."""
        said = b""
        for _ in range(attempts):
            _wait_reaped(self.pid(), STARTUP_TIMEOUT_S)
            if not _alive_pid(self.pid()):
                done = subprocess.run(
                    ["rabbitmq-server", "-detached"],
                    env=self._env(),
                    cwd=tempfile.gettempdir(),
                    capture_output=True,
                )
                said = done.stdout + done.stderr
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while not _port_open(self.port) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _port_open(self.port):
                self.ctl("await_startup", "--timeout", str(int(STARTUP_TIMEOUT_S)))
                return
        log = self.log_path.read_text(errors="replace")[-800:] if self.log_path.exists() else ""
        raise RabbitNodeUnavailable(
            f"{self.name} did not come back ({attempts} boots of {STARTUP_TIMEOUT_S:.0f}s): "
            f"{said.decode(errors='replace')[-300:]} … {log}"
        )

    def join(self, seed: RabbitNode) -> None:
        self.ctl("stop_app")
        self.ctl("join_cluster", seed.name)
        self.start_app()


class RabbitCluster:
    """Three clustered nodes with the surface of one RabbitNode (`url`, `stop_app`, `start_app`, `ctl`,
    `close`) for the campaign's other faults, and `lose_node()` for its own."""

    def __init__(self, size: int = SIZE) -> None:
        self.nodes = [ClusterNode() for _ in range(size)]
        self.seed = self.nodes[0]
        # One RabbitMQ fault at a time: two nodes down at once would take the quorum queues' majority.
        self.fault_lock = threading.Lock()

    @property
    def url(self) -> str:
        """RABBITMQ_URL for every tradeflow process: all the nodes, the seed first."""
        return ",".join(node.url for node in self.nodes)

    @property
    def name(self) -> str:
        return self.seed.name

    def start(self) -> RabbitCluster:
        clean_leftovers()
        try:
            with ThreadPoolExecutor(max_workers=len(self.nodes), thread_name_prefix="rabbitmq-node") as pool:
                for started in [pool.submit(node.start) for node in self.nodes]:
                    started.result()
            for node in self.nodes[1:]:
                node.join(self.seed)
            running = self.running_nodes()
            if running != {node.name for node in self.nodes}:
                raise RabbitNodeUnavailable(f"the cluster formed with {sorted(running)} only")
        except BaseException:
            self.close()
            raise
        return self

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """rabbitmqctl on the first node whose app runs (cluster-wide commands answer the same anywhere)."""
        for node in self.nodes:
            if _port_open(node.port):
                return node.ctl(*args, check=check)
        return self.seed.ctl(*args, check=check)

    # -- the campaign's RabbitMQ restart (bounce_rabbitmq): the seed's app, as on a single node ------

    def stop_app(self) -> None:
        self.seed.stop_app()

    def start_app(self, check: bool = True) -> None:
        self.seed.start_app(check=check)

    def revive(self) -> None:
        """After the faults: every node booted and its app started, whatever a fault left behind."""
        for node in self.nodes:
            if not _port_open(node.port) and not _alive_pid(node.pid()):
                node.boot()
            node.start_app(check=False)

    # -- node loss -------------------------------------------------------------------------------------

    def busiest(self) -> ClusterNode:
        """The node holding most client connections (the ingress's, the workers'): the one to lose."""
        per_port = self._connections()
        return max(self.nodes, key=lambda node: (per_port[node.port], -self.nodes.index(node)))

    def connections_on(self, node: ClusterNode) -> int:
        return self._connections()[node.port]

    def _connections(self) -> Counter[int]:
        return connections_per_port(self.ctl("list_connections", "name", check=False).stdout.decode())

    # -- what the cluster looks like ------------------------------------------------------------------

    def running_nodes(self) -> set[str]:
        status = self.ctl("cluster_status", "--formatter", "json", check=False).stdout.decode()
        with contextlib.suppress(ValueError):
            return set(json.loads(status).get("running_nodes") or [])
        return set()

    def queue_members(self, prefix: str) -> dict[str, int]:
        """How many nodes hold a replica of each of the campaign's queues (quorum queues: their members)."""
        listed = self.ctl("list_queues", "name", "members", "--no-table-headers").stdout.decode()
        members: dict[str, int] = {}
        for line in listed.splitlines():
            name, _, rest = line.partition("\t")
            if name.startswith(prefix):
                members[name] = len(re.findall(r"@", rest))
        return members

    def close(self) -> None:
        """Stop every node and delete its data, whatever state each is in."""
        with ThreadPoolExecutor(max_workers=len(self.nodes)) as pool:
            list(pool.map(_close_quietly, self.nodes))


def _close_quietly(node: ClusterNode) -> None:
    try:
        node.close()
    except Exception:
        pid = node.pid()
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(node.dir, ignore_errors=True)


def connections_per_port(listed: str) -> Counter[int]:
    """list_connections' names ("127.0.0.1:51234 -> 127.0.0.1:5673") counted by the node's own port."""
    return Counter(int(port) for port in re.findall(r"->\s*[\d.]+:(\d+)", listed))


def leftovers(root: Path | None = None) -> Iterator[tuple[Path, int, str]]:
    """(directory, owner pid, node name) of each cluster node whose campaign is no longer running."""
    for owner in sorted((root or Path(tempfile.gettempdir())).glob(f"tradeflow-rabbitmq-*/{OWNER_FILE}")):
        with contextlib.suppress(OSError, ValueError):
            pid_text, name = owner.read_text().split()
            pid = int(pid_text)
            if not _alive(pid):
                yield owner.parent, pid, name


def clean_leftovers(root: Path | None = None) -> list[str]:
    """Stop and delete the nodes an earlier, crashed campaign left running; returns their names."""
    cleaned = []
    for directory, _, name in leftovers(root):
        stop = ["rabbitmqctl", "-n", name, "-q", "stop"]
        subprocess.run(stop, capture_output=True, timeout=60, check=False)
        with contextlib.suppress(OSError, ValueError):
            pid = int((directory / "node.pid").read_text().strip())
            if name in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                os.kill(pid, signal.SIGKILL)  # still that node's VM (a pid is not reused under a live one)
        shutil.rmtree(directory, ignore_errors=True)
        cleaned.append(name)
    return cleaned


def _wait_reaped(pid: int | None, timeout_s: float) -> None:
    """A VM killed -9 stays a zombie until PID 1 reaps it (seconds here, sometimes much longer), and a
    zombie still answers kill(pid, 0): wait for the reap itself rather than take the zombie for a live VM
    and wait out a whole startup timeout for a port nothing will open (the cluster test took 97 s so)."""
    deadline = time.monotonic() + timeout_s
    while pid is not None and _zombie(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _alive_pid(pid: int | None) -> bool:
    return pid is not None and _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
