"""The campaign's traders: Execute Trade clicks at a steady rate, some sent twice, as Slack would retry."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

from bench.load import SYMBOLS, signed, submission, trade_id_of


@dataclass
class Submitted:
    accepted: set[uuid.UUID] = field(default_factory=set)  # the ingress acked "Submitting…"
    refused: dict[uuid.UUID, str] = field(default_factory=dict)  # the trader saw an error: never a trade
    duplicates_sent: int = 0
    errors: int = 0


async def trade_load(
    url: str, secret: str, users: list[str], count: int, rate_per_s: float, rng: random.Random
) -> Submitted:
    """POST `count` clicks at `rate_per_s`; about 5 % of them are posted a second time, a little later."""
    out = Submitted()
    plans = [
        (
            users[rng.randrange(len(users))],
            rng.choice(SYMBOLS),
            str(rng.randint(1, 5)),
            "sell" if rng.random() < 0.1 else "buy",
            rng.random() < 0.05,
        )
        for _ in range(count)
    ]

    async def post(session: aiohttp.ClientSession, body: str) -> str:
        try:
            async with session.post(url, data=body, headers=signed(secret, body)) as response:
                text = await response.text()
        except aiohttp.ClientError as exc:
            out.errors += 1
            return f"transport: {type(exc).__name__}"
        if response.status != 200:
            return f"HTTP {response.status}"
        answer = json.loads(text) if text else {}
        return "accepted" if answer.get("response_action") == "update" else json.dumps(answer)[:200]

    async def one(session: aiohttp.ClientSession, plan: tuple[str, str, str, str, bool]) -> None:
        user, symbol, quantity, side, twice = plan
        body = submission(user, symbol, quantity, side)
        trade_id = trade_id_of(body)
        answers = [await post(session, body)]
        if twice:
            await asyncio.sleep(rng.uniform(0.05, 1.0))
            out.duplicates_sent += 1
            answers.append(await post(session, body))
        if "accepted" in answers:
            out.accepted.add(trade_id)
        else:
            out.refused[trade_id] = answers[-1]

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        tasks = []
        started = time.perf_counter()
        for n, plan in enumerate(plans):
            await asyncio.sleep(max(0.0, started + n / rate_per_s - time.perf_counter()))
            tasks.append(asyncio.create_task(one(session, plan)))
        await asyncio.gather(*tasks)
    return out
