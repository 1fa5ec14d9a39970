"""Ingress ack latency while the chain is busy: signed view_submissions at a steady rate against `make up`.

Run `make up` in one terminal, then `python -m bench.ingress_ack --rate 50 --seconds 20`. Each request is a
real Execute Trade (a new trade id), so the chain works on every one while later acks are measured. Prints
p50/p95/p99/max of the ack (the HTTP response Slack waits 3 s for) and writes bench/out/ingress_ack.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import aiohttp

from bench.load import signed, submission
from workers.settings import load_settings


async def run(rate: float, seconds: float, url: str, secret: str) -> dict[str, object]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "SPY"]

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        body = submission("U123", symbols[n % len(symbols)])
        started = time.perf_counter()
        async with session.post(url, data=body, headers=signed(secret, body)) as response:
            answer = await response.json(content_type=None)
        latencies.append((time.perf_counter() - started) * 1000)
        key = f"{response.status}:{answer.get('response_action') if isinstance(answer, dict) else answer}"
        statuses[key] = statuses.get(key, 0) + 1

    async with aiohttp.ClientSession() as session:
        tasks = []
        start = time.perf_counter()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(session, n)))
        await asyncio.gather(*tasks)
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)

    return {
        "requests": len(ordered),
        "rate_per_s": rate,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(ordered[-1], 1),
        "mean_ms": round(statistics.mean(ordered), 1),
        "answers": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    settings = load_settings()
    url = f"http://{settings.tradeflow_ingress_host}:{settings.tradeflow_ingress_port}/slack/events"
    result = asyncio.run(run(args.rate, args.seconds, url, settings.slack_signing_secret))
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "ingress_ack.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
