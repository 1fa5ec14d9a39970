"""tradeflow measured from outside: signed Execute Trade clicks into the ingress, each trade done when its
DM is delivered (the Slack emulator stamps every message it accepts).

Per-stage times come from the trade's audit timestamps: submitted (the click, stamped by the ingress),
recorded (validation + persistence), executed, position updated; then the DM's delivery.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from bench.load import SYMBOLS, signed, submission, trade_id_of
from workers.store.port import TradeStore

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAGE_KEYS = (
    ("validation+persistence", "020#trade_recorded"),
    ("execution", "030#trade_executed"),
    ("positions", "040#position_updated"),
    ("notifications", "050#trade_notified"),  # replaced by the DM's delivery
)
NOTIFIED = STAGE_KEYS[-1][1]


@dataclass
class Sent:
    sent_at: dict[uuid.UUID, float] = field(default_factory=dict)  # epoch seconds, before the POST
    ack_ms: list[float] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)


async def submit(
    url: str, secret: str, users: list[str], count: int, *, rate_per_s: float | None, in_flight: int = 64
) -> Sent:
    """POST `count` Execute Trade clicks, at a steady rate or as fast as `in_flight` connections allow."""
    sent = Sent()
    gate = asyncio.Semaphore(in_flight)

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        body = submission(users[n % len(users)], SYMBOLS[n % len(SYMBOLS)])
        async with gate:
            sent.sent_at[trade_id_of(body)] = time.time()
            started = time.perf_counter()
            async with session.post(url, data=body, headers=signed(secret, body)) as response:
                await response.read()
            sent.ack_ms.append((time.perf_counter() - started) * 1000)
            sent.answers[str(response.status)] = sent.answers.get(str(response.status), 0) + 1

    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        started = time.perf_counter()
        for n in range(count):
            if rate_per_s:
                await asyncio.sleep(max(0.0, started + n / rate_per_s - time.perf_counter()))
            tasks.append(asyncio.create_task(one(session, n)))
        await asyncio.gather(*tasks)
    return sent


async def delivered_at(
    slack_admin: str, trade_ids: set[uuid.UUID], timeout_s: float
) -> dict[uuid.UUID, float]:
    """When each trade's DM was delivered (epoch seconds, the Slack emulator's clock), once all of them were.

    Each poll asks only for the messages posted since the last one (`offset`), so polling costs the machine
    next to nothing however many trades a run holds: its CPU is the stack's, not the measurement's. A trade
    told twice (working, then its outcome) counts its last DM.
    """
    deadline = time.monotonic() + timeout_s
    wanted = {str(t): t for t in trade_ids}
    delivered: dict[uuid.UUID, float] = {}
    seen = 0
    async with aiohttp.ClientSession() as session:
        while True:
            params = {"offset": str(seen)}
            async with session.get(f"{slack_admin}/admin/messages", params=params) as response:
                messages = await response.json()
            seen += len(messages)
            for message in (m for m in messages if m["kind"] == "message"):  # DMs, not ephemeral answers
                for found in UUID_RE.findall(json.dumps(message)):
                    if found in wanted:
                        trade_id = wanted[found]
                        delivered[trade_id] = max(delivered.get(trade_id, 0.0), float(message["at_s"]))
            if len(delivered) == len(wanted):
                return delivered
            if time.monotonic() > deadline:
                unseen = f"{len(wanted) - len(delivered)} of {len(wanted)} trades"
                raise TimeoutError(f"{unseen} were not notified in {timeout_s}s")
            await asyncio.sleep(0.25)


async def audit_times(store: TradeStore, trade_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, float]]:
    """Each trade's audit event times (epoch seconds) by event key."""
    gate = asyncio.Semaphore(16)
    times: dict[uuid.UUID, dict[str, float]] = {}

    async def one(trade_id: uuid.UUID) -> None:
        async with gate:
            events = await store.list_audit(trade_id)
        times[trade_id] = {e.event_key: _epoch(e.timestamp) for e in events}

    await asyncio.gather(*(one(t) for t in trade_ids))
    return times


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def throughput(sent: Sent, delivered: dict[uuid.UUID, float]) -> dict[str, Any]:
    """Overall (first click to last DM) and sustained (10th to 90th DM delivered) trades/s."""
    done = sorted(delivered.values())
    first = min(sent.sent_at.values())
    overall = len(done) / (done[-1] - first) if done else 0.0
    lo, hi = int(len(done) * 0.1), int(len(done) * 0.9) - 1
    sustained = (hi - lo) / (done[hi] - done[lo]) if hi > lo and done[hi] > done[lo] else overall
    return {"trades": len(done), "overall_tps": round(overall, 1), "sustained_tps": round(sustained, 1)}


def stage_latencies(
    sent: Sent, times: dict[uuid.UUID, dict[str, float]], delivered: dict[uuid.UUID, float]
) -> dict[str, list[float]]:
    """End-to-end (click to DM delivered) and per-stage latencies in ms, for trades that were told.

    The stages end at their audit timestamps (recorded, executed, position updated); notifications ends at
    the DM's delivery, so the stages add up to the end-to-end figure.
    """
    split: dict[str, list[float]] = {"end_to_end": [], **{name: [] for name, _ in STAGE_KEYS}}
    for trade_id, dm_at in delivered.items():
        if trade_id not in sent.sent_at:
            continue
        events = {**times.get(trade_id, {}), NOTIFIED: dm_at}
        split["end_to_end"].append((dm_at - sent.sent_at[trade_id]) * 1000)
        previous = sent.sent_at[trade_id]
        for name, key in STAGE_KEYS:
            if key in events:
                split[name].append(max(0.0, events[key] - previous) * 1000)
                previous = events[key]
    return split
