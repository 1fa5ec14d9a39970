"""tradeflow against Alpaca's real limits: the requests a trade costs, and a burst into one account.

On the stack `make up` runs, trading on the Alpaca emulator at Alpaca's documented 200 requests a minute per
API and account (the emulator's default), with the shared budget in Redis:

1. Alpaca requests per trade, trading and data, by route: market trades; limit trades that rest and then
   fill; market trades filled in three parts. Counted at the emulator after an unmeasured warm-up (each
   process's first reads: the account, the clock, the asset list), so the figures are the steady state's.
2. A burst of --burst trades through the ingress into one account: trades a minute sustained (10th to 90th
   percentile of executions) as a share of the limit, trades failed or simulated (must be 0), each trade's
   wait in the queue (recorded → executed) p50/p99, the first trade's click → DM, and Alpaca's 429s.

    .venv/bin/python -m bench.alpaca --burst 300      # alone, on a stack of its own
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from bench import chain
from bench.stack import LoopbackStack
from bench.stats import latency_summary, percentile
from emulators.alpaca.admin_client import AdminClient
from messages.events import SubmitTrade
from messages.trade import TradeRequest
from workers.bootstrap import open_store
from workers.chain.publisher import Publisher
from workers.settings import Settings, load_settings

OUT = Path(__file__).resolve().parent / "out"
LIMIT_PER_MINUTE = 200
RECORDED, EXECUTED, NOTIFIED = "020#trade_recorded", "030#trade_executed", "050#trade_notified"


# A burst of 1,000 into one account needs five minutes of Alpaca's budget by construction, and tradeflow
# fails a trade not placed within TRADEFLOW_STUCK_AFTER_S of its click (300 s by default: never placed late),
# so at the default its last trades would fail by design, not by a 429. A desk that sends such bursts into
# one account gives its trades the time the limit needs: here ten minutes.
BURST_DEADLINE_S = 600


def alpaca_stack(users: list[str]) -> LoopbackStack:
    """The bench's stack on the Alpaca emulator (its rate limit at Alpaca's 200 a minute), trades filling
    the way the emulator fills them."""
    extra_env = {"TRADEFLOW_FILL_TIMEOUT_S": "10", "TRADEFLOW_STUCK_AFTER_S": str(BURST_DEADLINE_S)}
    return LoopbackStack(OUT, users, alpaca=True, extra_env=extra_env)


# -- submitting and waiting ----------------------------------------------------------------------------


def _trade(user: str, symbol: str, **fields: Any) -> TradeRequest:
    values: dict[str, Any] = {
        "trade_id": uuid.uuid4(),
        "user_id": user,
        "channel_id": "C0BENCH",
        "symbol": symbol,
        "side": "buy",
        "quantity": Decimal(1),
        "submitted_at": datetime.now(UTC),
    }
    values.update(fields)
    return TradeRequest(**values)


def publish(
    settings: Settings, trades: list[TradeRequest], rate_per_s: float | None = None
) -> list[uuid.UUID]:
    """Submit the trades, all at once or at a steady rate (each stamped when it is sent)."""
    publisher = Publisher(settings)
    started = time.perf_counter()
    try:
        for n, trade in enumerate(trades):
            if rate_per_s:
                time.sleep(max(0.0, started + n / rate_per_s - time.perf_counter()))
                trade = msgspec.structs.replace(trade, submitted_at=datetime.now(UTC))
            publisher.submit(SubmitTrade(trade=trade))
    finally:
        publisher.close()
    return [trade.trade_id for trade in trades]  # a restamped copy keeps its trade id


async def statuses(settings: Settings, trade_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    store = await open_store(settings)
    try:
        return {trade_id: await store.get_trade(trade_id) for trade_id in trade_ids}
    finally:
        await store.close()


def wait_for(settings: Settings, trade_ids: list[uuid.UUID], wanted: set[str], timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        records = asyncio.run(statuses(settings, trade_ids))
        if all(r is not None and r.status in wanted for r in records.values()):
            return records
        if time.monotonic() > deadline:
            seen = Counter(r.status if r else "missing" for r in records.values())
            raise TimeoutError(f"not all {sorted(wanted)} within {timeout_s}s: {dict(seen)}")
        time.sleep(1.0)


# -- requests per trade --------------------------------------------------------------------------------


def per_trade(admin: AdminClient, trades: int) -> dict[str, Any]:
    """What the emulator answered since its log was cleared, per trade: by lane and by route."""
    counts: dict[str, int] = admin.requests()["counts"]
    by_route = {route: round(n / trades, 2) for route, n in sorted(counts.items())}
    data = sum(n for route, n in counts.items() if " /v2/stocks/" in route)
    trading = sum(counts.values()) - data
    return {
        "trades": trades,
        "trading_per_trade": round(trading / trades, 3),
        "data_per_trade": round(data / trades, 3),
        "by_route": by_route,
    }


def requests_per_trade(stack: LoopbackStack, settings: Settings, users: list[str]) -> dict[str, Any]:
    admin = AdminClient(stack.alpaca_origin)
    symbols = ("AAPL", "MSFT", "NVDA", "AMZN", "META", "GOOGL", "TSLA", "SPY")
    out: dict[str, Any] = {}

    def market(count: int) -> list[TradeRequest]:
        return [_trade(users[n % len(users)], symbols[n % len(symbols)]) for n in range(count)]

    print("alpaca: warming every process (its first reads are not the steady state's)…", flush=True)
    wait_for(settings, publish(settings, market(40)), {"executed"}, 180)

    admin.clear_requests()
    print("alpaca: requests per market trade (100 trades at 5/s)…", flush=True)
    wait_for(settings, publish(settings, market(100), rate_per_s=5), {"executed"}, 300)
    out["market"] = per_trade(admin, 100)

    print("alpaca: requests per limit trade that rests, then fills (20 trades)…", flush=True)
    mid = Decimal(str(admin.prices("IBM")["IBM"]["mid"]))
    limit = (mid * Decimal("0.95")).quantize(Decimal("0.01"))
    resting = [
        _trade(users[n % len(users)], "IBM", order_type="limit", limit_price=limit, time_in_force="gtc")
        for n in range(20)
    ]
    admin.clear_requests()
    ids = publish(settings, resting)
    wait_for(settings, ids, {"working"}, 300)
    admin.set_price("IBM", limit - Decimal(1))
    wait_for(settings, ids, {"executed"}, 300)
    out["limit_resting_then_filled"] = per_trade(admin, 20)
    admin.set_price("IBM", mid, freeze=False)

    print("alpaca: requests per market trade filled in three parts (40 trades)…", flush=True)
    admin.configure(partial_fills=3, partial_interval_ms=30)
    admin.clear_requests()
    wait_for(settings, publish(settings, market(40)), {"executed"}, 300)
    out["market_partially_filled"] = per_trade(admin, 40)
    admin.configure(partial_fills=1)
    return out


# -- the burst -----------------------------------------------------------------------------------------


def burst(stack: LoopbackStack, settings: Settings, users: list[str], trades: int) -> dict[str, Any]:
    """`trades` Execute Trade clicks at once into one account at Alpaca's 200 requests a minute."""
    admin = AdminClient(stack.alpaca_origin)
    admin.clear_requests()
    print(f"alpaca: a burst of {trades} trades into one account at {LIMIT_PER_MINUTE}/min…", flush=True)
    started = time.time()
    secret = settings.slack_signing_secret
    sent = asyncio.run(chain.submit(stack.ingress_url, secret, users, trades, rate_per_s=None))
    ids = list(sent.sent_at)
    # Done when every trade's outcome was told (a trade queued behind the limit is told that first).
    times = _wait_until_told(settings, ids, timeout_s=trades * 60 / 150 + 300)
    delivered = asyncio.run(chain.delivered_at(stack.slack_origin, set(ids), timeout_s=60))
    records = asyncio.run(statuses(settings, ids))
    executed = sorted(t[EXECUTED] for t in times.values() if EXECUTED in t)
    lo, hi = int(len(executed) * 0.1), int(len(executed) * 0.9) - 1
    per_minute = (hi - lo) / (executed[hi] - executed[lo]) * 60 if hi > lo else float("nan")
    waits = [(t[EXECUTED] - t[RECORDED]) * 1000 for t in times.values() if EXECUTED in t and RECORDED in t]
    outcomes = Counter(
        f"{r.status}/{r.execution_method or '-'}" + (f"/{r.error_code}" if r.error_code else "")
        for r in records.values()
        if r is not None
    )
    first = min(sent.sent_at, key=lambda trade_id: sent.sent_at[trade_id])
    counts = admin.requests()["counts"]
    statuses_seen = Counter(str(r["status"]) for r in admin.requests()["requests"])
    return {
        "trades": trades,
        "limit_per_minute": LIMIT_PER_MINUTE,
        "sustained_per_minute": round(per_minute, 1),
        "share_of_limit": round(per_minute / LIMIT_PER_MINUTE, 3),
        "executed": sum(1 for r in records.values() if r is not None and r.status == "executed"),
        "failed_or_simulated": sum(
            1
            for r in records.values()
            if r is None or r.status != "executed" or r.execution_method != "alpaca"
        ),
        "outcomes": dict(outcomes),
        "queue_wait": latency_summary(waits),
        "first_trade_click_to_dm_ms": round((delivered[first] - sent.sent_at[first]) * 1000, 1),
        "elapsed_s": round(max(delivered.values()) - started, 1),
        "alpaca_429s": statuses_seen.get("429", 0),
        "alpaca_requests": dict(sorted(counts.items())),
        "median_wait_s": round(percentile(sorted(waits), 50) / 1000, 1) if waits else None,
    }


def _wait_until_told(
    settings: Settings, trade_ids: list[uuid.UUID], timeout_s: float
) -> dict[uuid.UUID, dict[str, float]]:
    deadline = time.monotonic() + timeout_s
    while True:
        times = asyncio.run(_audit_times(settings, trade_ids))
        told = sum(1 for t in times.values() if NOTIFIED in t)
        if told == len(trade_ids):
            return times
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(trade_ids) - told} of {len(trade_ids)} trades not told in {timeout_s:.0f}s"
            )
        time.sleep(5.0)


async def _audit_times(settings: Settings, trade_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, float]]:
    store = await open_store(settings)
    try:
        return await chain.audit_times(store, trade_ids)
    finally:
        await store.close()


def run(users: list[str], burst_trades: int, processes: int) -> dict[str, Any]:
    """Both measurements on a stack of their own (the simulation's stack measures tradeflow alone)."""
    stack = alpaca_stack(users).start()
    try:
        settings = load_settings(stack.settings_env())
        stack.start_workers(processes)
        results = {"processes": processes, "requests_per_trade": requests_per_trade(stack, settings, users)}
        # A fresh minute for the burst: the window the measurements above used has run out.
        time.sleep(61)
        results["burst"] = burst(stack, settings, users, burst_trades)
    finally:
        stack.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.alpaca", description=__doc__)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    users = [f"UB{n:05d}" for n in range(200)]
    results = run(users, args.burst, args.processes)
    OUT.mkdir(exist_ok=True)
    (OUT / "alpaca.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
