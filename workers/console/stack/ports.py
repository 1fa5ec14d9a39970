"""Loopback ports for servers that another process starts a little later."""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody holds right now, for a server another process starts soon, picked below the
    kernel's ephemeral range: a port from that range (what binding port 0 gives) can be taken meanwhile by
    any outgoing connection's local end, and the server then fails to bind (CI met it, an ingress started
    20 s after its port was picked). Never the same port twice from one process."""
    low = ephemeral_range_start()
    candidates = range(max(1024, low - 20_000), low)
    chooser = random.SystemRandom()
    for _ in range(200):
        port = chooser.choice(candidates)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # a crowded machine: the kernel's pick
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def ephemeral_range_start() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default range starts there
