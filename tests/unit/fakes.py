"""Hand-written fakes behind the ports, and a test app composed like the real one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from brokers.simulated import SimulatedBroker
from messages.events import SubmitTrade
from messages.trade import Execution, ExecutionError, TradeRequest
from workers.handlers.deps import Deps, TradingPolicy
from workers.handlers.ports import Outcome
from workers.store.memory import MemoryTradeStore


class FakeNotifier:
    name = "fake"

    def __init__(self) -> None:
        self.sent: list[Outcome] = []

    async def notify(self, outcome: Outcome) -> None:
        self.sent.append(outcome)

    async def close(self) -> None:
        return None


class CountingBroker:
    """Wraps a StockBroker and counts the orders it was asked to execute."""

    name = "counting"

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[uuid.UUID] = []

    async def execute(self, trade: TradeRequest) -> Execution | ExecutionError:
        self.calls.append(trade.trade_id)
        return await self.inner.execute(trade)

    def quote(self, symbol: str) -> Decimal:
        return self.inner.quote(symbol)

    async def close(self) -> None:
        return None


class FixedPrices:
    def __init__(self, price: Decimal | None = Decimal("100")) -> None:
        self.price = price

    async def reference_price(self, symbol: str) -> Decimal | None:
        return self.price


def policy(**overrides: Any) -> TradingPolicy:
    values: dict[str, Any] = {
        "symbols": frozenset({"AAPL", "MSFT", "TSLA"}),
        "traders": frozenset({"U123", "U456"}),
        "max_quantity": Decimal(1000),
        "max_notional": Decimal(500_000),
        "allow_short": False,
    }
    values.update(overrides)
    return TradingPolicy(**values)


def make_deps(**overrides: Any) -> Deps:
    values: dict[str, Any] = {
        "store": MemoryTradeStore(),
        "broker": CountingBroker(SimulatedBroker(seed=7, delay_ms=0)),
        "prices": FixedPrices(),
        "notifier": FakeNotifier(),
        "policy": policy(),
        "retention_days": 2557,
    }
    values.update(overrides)
    return Deps(**values)


NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def trade(**overrides: Any) -> TradeRequest:
    values: dict[str, Any] = {
        "trade_id": uuid.uuid4(),
        "user_id": "U123",
        "channel_id": "C1",
        "symbol": "AAPL",
        "side": "buy",
        "quantity": Decimal(10),
        "submitted_at": NOW,
    }
    values.update(overrides)
    return TradeRequest(**values)


def submit(**overrides: Any) -> SubmitTrade:
    return SubmitTrade(trade=trade(**overrides))
