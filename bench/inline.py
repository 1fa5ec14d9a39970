"""The chain's handlers run inline, no messaging: the seed's synchronous shape, and the store's ceiling.

`run_inline` drives one trade through the same five handlers the actors run, following the same routing
table, in one coroutine. With concurrency 1 and the Slack notifier it is the synchronous inline baseline (one
trade after another, as the seed's single process does it); with 16 in flight and a silent notifier it issues
exactly the chain's DynamoDB calls through aioboto3 and nothing else: the store ceiling.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from messages.events import AnyMessage, SubmitTrade
from messages.trade import TradeRequest
from workers.chain.routing import NEXT_STAGE, outputs
from workers.chain.stage_handlers import STAGE_HANDLERS as HANDLERS
from workers.handlers.deps import Deps
from workers.handlers.ports import Outcome


class SilentNotifier:
    """Tells nobody: the store ceiling measures DynamoDB, not Slack."""

    name = "silent"

    async def notify(self, outcome: Outcome) -> None:
        return None

    async def already_told(self, outcome: Outcome) -> bool:
        return False

    async def close(self) -> None:
        return None


class WriteCounter:
    """Counts the DynamoDB requests a client sends, by operation, and the items each write touches."""

    WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items_written = 0

    def attach(self, client: Any) -> None:
        # before-parameter-build sees the API parameters (TransactItems, …), once per request sent.
        client.meta.events.register("before-parameter-build.dynamodb", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "TransactWriteItems":
            self.items_written += len(params.get("TransactItems", []))
        elif model.name == "BatchWriteItem":
            self.items_written += sum(len(v) for v in params.get("RequestItems", {}).values())
        elif model.name in self.WRITES:
            self.items_written += 1

    @property
    def write_requests(self) -> int:
        return sum(n for op, n in self.calls.items() if op in self.WRITES)


def bench_trade(user_id: str, symbol: str) -> SubmitTrade:
    return SubmitTrade(
        trade=TradeRequest(
            trade_id=uuid.uuid4(),
            user_id=user_id,
            symbol=symbol,
            side="buy",
            quantity=Decimal(1),
            submitted_at=datetime.now(UTC),
            source="bench",
        )
    )


async def run_one(command: SubmitTrade, deps: Deps) -> float:
    """Every stage inline, in chain order; returns the trade's latency in ms (to its last handler's end)."""
    started = time.perf_counter()
    pending: list[AnyMessage] = [command]
    while pending:
        message = pending.pop(0)
        handler = HANDLERS[NEXT_STAGE[type(message)]]
        pending.extend(outputs(await handler(message, deps)))
    return (time.perf_counter() - started) * 1000


async def run_inline(
    commands: Sequence[SubmitTrade], deps: Deps, concurrency: int
) -> tuple[float, list[float], dict[uuid.UUID, float]]:
    """Run the trades `concurrency` at a time.

    Returns the elapsed seconds, each trade's latency in ms to its last handler's end, and when each trade
    started (epoch seconds), to measure it against its DM's delivery instead.
    """
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    started_at: dict[uuid.UUID, float] = {}

    async def one(command: SubmitTrade) -> None:
        async with gate:
            started_at[command.trade.trade_id] = time.time()
            latencies.append(await run_one(command, deps))

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in commands))
    return time.perf_counter() - started, latencies, started_at
