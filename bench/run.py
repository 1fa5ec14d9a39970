"""`make bench`: tradeflow beside the ceilings it is judged against, measured in one run on this machine.

1. the messaging ceiling: five no-op dramatiq actors in a chain on the same RabbitMQ;
2. the store ceiling: the chain's DynamoDB calls, handlers inline, 16 trades in flight, no messaging;
3. the synchronous inline baseline: the seed's shape, one trade after another, Slack included;
4. tradeflow, full chain, through the ingress: throughput with 1 and 2 worker processes over --trades
   trades (and the CPU per trade of tradeflow's own processes meanwhile), end-to-end latency split by
   stage at a steady --steady-rate, and the ingress ack at --ack-rate while the chain is busy;
5. tradeflow on the Alpaca emulator at Alpaca's real 200 requests a minute (bench/alpaca.py): Alpaca
   requests per trade by route, and a burst of --burst trades into one account.
It prints one table and the goal ratios, and writes bench/out/bench.json and bench/out/bench.png.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import chain, cpu
from bench.inline import SilentNotifier, WriteCounter, bench_trade, run_inline
from bench.load import SYMBOLS
from bench.messaging import NoopChain
from bench.report import render, write_png
from bench.stack import LoopbackStack
from bench.stats import latency_summary, rate
from workers.bootstrap import close_deps, open_deps
from workers.settings import Settings, load_settings

OUT = Path(__file__).resolve().parent / "out"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--trades", type=int, default=1000, help="trades per throughput run (default 1000)")
    parser.add_argument("--steady-rate", type=float, default=20.0, help="latency run rate (default 20/s)")
    parser.add_argument("--steady-seconds", type=float, default=30.0)
    parser.add_argument("--ack-rate", type=float, default=50.0, help="ingress ack run rate (default 50/s)")
    parser.add_argument("--ack-seconds", type=float, default=20.0)
    parser.add_argument("--baseline-trades", type=int, default=300)
    parser.add_argument("--warm-trades", type=int, default=1000, help="unmeasured, to warm DynamoDB Local")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--users", type=int, default=200, help="distinct traders the load spreads over")
    parser.add_argument(
        "--burst", type=int, default=1000, help="the Alpaca burst's trades (0: no Alpaca part)"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    users = [f"UB{n:05d}" for n in range(args.users)]
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": _cpus(), "python": platform.python_version(), "platform": platform.platform()},
        "args": vars(args),
    }
    stack = LoopbackStack(OUT, users).start()
    try:
        settings = load_settings(stack.settings_env())
        print("messaging ceiling: five no-op actors…", flush=True)
        results["messaging_ceiling"] = messaging_ceiling(stack, settings, args.trades)
        print(
            f"warming DynamoDB Local's JIT: {args.warm_trades} trades through the store, unmeasured…",
            flush=True,
        )
        asyncio.run(warm_store(settings, users, args.warm_trades))
        print("store ceiling: the chain's DynamoDB calls, 16 in flight…", flush=True)
        results["store_ceiling"] = asyncio.run(store_ceiling(settings, users, args.trades))
        print("inline baseline: one trade after another…", flush=True)
        results["inline_baseline"] = asyncio.run(
            inline_baseline(settings, stack.slack_origin, users, args.baseline_trades)
        )
        results["tradeflow"] = tradeflow(stack, settings, users, args)
    finally:
        stack.close()
    if args.burst:
        from bench import alpaca

        results["alpaca"] = alpaca.run(users, args.burst, max(args.processes))
    results["finished_at"] = datetime.now(UTC).isoformat()
    OUT.mkdir(exist_ok=True)
    (OUT / "bench.json").write_text(json.dumps(results, indent=2))
    write_png(results, OUT / "bench.png")
    print(render(results))
    print(f"\nwrote {OUT / 'bench.json'} and {OUT / 'bench.png'}")


def messaging_ceiling(stack: LoopbackStack, settings: Settings, chains: int) -> dict[str, Any]:
    noop = NoopChain(stack.env["RABBITMQ_URL"], f"{stack.prefix}noop-", settings.tradeflow_queue_type)
    try:
        flood = noop.run(chains)
        steady = noop.run(200, rate_per_s=20)
    finally:
        noop.close()
    return {
        "chains": flood["chains"],
        "throughput_cps": rate(flood["chains"], flood["elapsed_s"]),
        "latency_at_20": latency_summary(steady["latencies_ms"]),
    }


async def warm_store(settings: Settings, users: list[str], trades: int) -> None:
    """Run trades through the store path, unmeasured: a fresh JVM is slower until its JIT has compiled the
    hot paths, and every measurement after this one should meet the same warm DynamoDB Local."""
    deps = await open_deps(settings)
    silent = dataclasses.replace(deps, notifier=SilentNotifier())
    try:
        commands = [bench_trade(users[n % len(users)], SYMBOLS[n % len(SYMBOLS)]) for n in range(trades)]
        await run_inline(commands, silent, 16)
    finally:
        await close_deps(deps)


async def store_ceiling(settings: Settings, users: list[str], trades: int) -> dict[str, Any]:
    deps = await open_deps(settings)
    counter = WriteCounter()
    counter.attach(deps.store._client)  # type: ignore[attr-defined]  # the adapter's aiobotocore client
    silent = dataclasses.replace(deps, notifier=SilentNotifier())
    commands = [bench_trade(users[n % len(users)], SYMBOLS[n % len(SYMBOLS)]) for n in range(trades)]
    try:
        await run_inline(commands[:50], silent, 16)  # warm the connection pool
        counter.calls.clear()
        counter.items_written = 0
        elapsed, latencies, _ = await run_inline(commands[50:], silent, 16)
    finally:
        await close_deps(deps)
    done = len(commands) - 50
    return {
        "trades": done,
        "in_flight": 16,
        "throughput_tps": rate(done, elapsed),
        "latency": latency_summary(latencies),
        "requests_per_trade": {op: round(n / done, 2) for op, n in sorted(counter.calls.items())},
        "write_requests_per_trade": round(counter.write_requests / done, 2),
        "items_written_per_trade": round(counter.items_written / done, 2),
    }


async def inline_baseline(
    settings: Settings, slack_origin: str, users: list[str], trades: int
) -> dict[str, Any]:
    """One trade after another, each from its start to its DM's delivery, as tradeflow's are measured."""
    deps = await open_deps(settings)
    commands = [bench_trade(users[n % len(users)], SYMBOLS[n % len(SYMBOLS)]) for n in range(trades)]
    try:
        await run_inline(commands[:20], deps, 1)
        elapsed, _, started_at = await run_inline(commands[20:], deps, 1)
    finally:
        await close_deps(deps)
    delivered = await chain.delivered_at(slack_origin, set(started_at), timeout_s=60)
    return {
        "trades": trades - 20,
        "throughput_tps": rate(trades - 20, elapsed),
        "latency": latency_summary([(delivered[t] - started_at[t]) * 1000 for t in started_at]),
    }


def tradeflow(
    stack: LoopbackStack, settings: Settings, users: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Per worker-process count: throughput over --trades trades, latency at a steady --steady-rate, and the
    ingress ack at --ack-rate (faster than the chain goes, so it is busy throughout)."""
    secret = settings.slack_signing_secret
    out: dict[str, Any] = {
        "throughput": {},
        "cpu_ms_per_trade": {},
        "latency": {},
        "latency_samples_ms": {},
        "ingress_ack": {},
    }
    out["latency_rate_per_s"] = args.steady_rate
    steady = int(args.steady_rate * args.steady_seconds)
    for processes in args.processes:
        print(f"tradeflow: {args.trades} trades, {processes} worker process(es)…", flush=True)
        stack.start_workers(processes)
        asyncio.run(flood(stack, secret, users, 50, None))  # warm every process
        before = cpu.sample()
        sent, _, delivered = asyncio.run(flood(stack, secret, users, args.trades, None))
        after = cpu.sample()
        out["throughput"][str(processes)] = chain.throughput(sent, delivered)
        workers, ingress = stack.tradeflow_pids()
        out["cpu_ms_per_trade"][str(processes)] = {
            "tradeflow": cpu.groups_ms_per_trade(before, after, args.trades, workers | ingress),
            "workers": cpu.groups_ms_per_trade(before, after, args.trades, workers),
            "ingress": cpu.groups_ms_per_trade(before, after, args.trades, ingress),
        }
        print(
            f"tradeflow: latency at a steady {args.steady_rate:g}/s ({steady} trades), {processes}…",
            flush=True,
        )
        sent, times, delivered = asyncio.run(flood(stack, secret, users, steady, args.steady_rate))
        split = chain.stage_latencies(sent, times, delivered)
        out["latency"][str(processes)] = {name: latency_summary(values) for name, values in split.items()}
        out["latency_samples_ms"][str(processes)] = {
            name: [round(v, 2) for v in values] for name, values in split.items()
        }
        count = int(args.ack_rate * args.ack_seconds)
        print(f"tradeflow: ingress ack at {args.ack_rate:g}/s ({count} requests), {processes}…", flush=True)
        sent, _, _ = asyncio.run(flood(stack, secret, users, count, args.ack_rate))
        out["ingress_ack"][str(processes)] = {
            "rate_per_s": args.ack_rate,
            **latency_summary(sent.ack_ms),
            "answers": sent.answers,
        }
    stack.stop_workers()
    return out


async def flood(
    stack: LoopbackStack, secret: str, users: list[str], count: int, rate_per_s: float | None
) -> tuple[chain.Sent, dict[Any, dict[str, float]], dict[Any, float]]:
    """Submit `count` trades through the ingress; once every DM is delivered, (what was sent, each trade's
    audit times, each trade's DM delivery time)."""
    from workers.bootstrap import open_store

    sent = await chain.submit(stack.ingress_url, secret, users, count, rate_per_s=rate_per_s)
    delivered = await chain.delivered_at(
        stack.slack_origin, set(sent.sent_at), timeout_s=max(120.0, count / 5)
    )
    settings = load_settings(stack.settings_env())
    store = await open_store(settings)
    try:
        times = await chain.audit_times(store, list(sent.sent_at))
    finally:
        await store.close()
    return sent, times, delivered


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"bench took {time.perf_counter() - started:.0f} s")
