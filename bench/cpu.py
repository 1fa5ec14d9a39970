"""Where a trade's CPU goes: the bench's stack, a flood of trades through the ingress, and the CPU time each
process of the machine spent on it, per trade (read from /proc before and after).

    .venv/bin/python -m bench.cpu --trades 1000 --processes 2

On two cores the figures add up to what bounds throughput: 2,000 ms of CPU a second over the sum per trade.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from bench import chain
from bench.stack import LoopbackStack
from workers.settings import load_settings

Sample = dict[int, tuple[str, float, int]]  # pid → (command line, CPU seconds so far, process group)


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/PID/stat (fields 14 and 15)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample() -> Sample:
    """Every process of the machine: its command line, its CPU time so far and its process group."""
    found: Sample = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = _stat(int(entry.name))
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            found[int(entry.name)] = (command.strip(), cpu, int(fields[2]))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # it ended meanwhile
    return found


def groups_ms_per_trade(before: Sample, after: Sample, trades: int, groups: set[int]) -> float:
    """CPU ms per trade of every process in `groups` (process groups: a worker and what it forked)."""
    spent = sum(after[pid][1] - before[pid][1] for pid in after if pid in before and after[pid][2] in groups)
    return round(spent * 1000 / trades, 1)


def per_trade_ms(before: Sample, after: Sample, trades: int) -> list[tuple[float, str]]:
    """(CPU ms per trade, command line) of each process alive throughout, most first."""
    spent = [
        ((after[pid][1] - before[pid][1]) * 1000 / trades, after[pid][0])
        for pid in after
        if pid in before and after[pid][1] > before[pid][1]
    ]
    return sorted(spent, reverse=True)


def main() -> None:
    from bench.run import OUT, flood, warm_store

    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__)
    parser.add_argument("--trades", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--warm-trades", type=int, default=1000, help="unmeasured, to warm DynamoDB Local")
    args = parser.parse_args()
    users = [f"UB{n:05d}" for n in range(200)]
    stack = LoopbackStack(OUT, users).start()
    try:
        settings = load_settings(stack.settings_env())
        asyncio.run(warm_store(settings, users, args.warm_trades))
        stack.start_workers(args.processes)
        secret = settings.slack_signing_secret
        asyncio.run(flood(stack, secret, users, 50, None))  # warm every process
        before, started = sample(), time.perf_counter()
        sent, _, delivered = asyncio.run(flood(stack, secret, users, args.trades, None))
        elapsed, after = time.perf_counter() - started, sample()
    finally:
        stack.close()
    figures = chain.throughput(sent, delivered)
    print(f"{args.trades} trades, {args.processes} worker process(es): {figures} in {elapsed:.1f} s")
    rows = [(ms, command) for ms, command in per_trade_ms(before, after, args.trades) if ms >= 0.1]
    for ms, command in rows:
        print(f"{ms:7.1f} ms  {command[:100]}")
    print(f"{sum(ms for ms, _ in rows):7.1f} ms  in all, per trade")


if __name__ == "__main__":
    main()
