"""`free_port` picks ports a server can still bind when it starts later: outside the kernel's ephemeral
range (which any outgoing connection may take meanwhile), and never the same one twice."""

from __future__ import annotations

import socket

from workers.console.stack.ports import ephemeral_range_start, free_port


def test_ports_are_below_the_ephemeral_range_distinct_and_bindable() -> None:
    low = ephemeral_range_start()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(1024 <= port < low for port in ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[-1]))


def test_the_ephemeral_range_is_read_from_the_kernel() -> None:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as kernel:
        assert ephemeral_range_start() == int(kernel.read().split()[0])
