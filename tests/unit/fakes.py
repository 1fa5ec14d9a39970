"""Hand-written fakes behind the ports, and a test app composed like the real one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from brokers.port import BrokerResult, CancelAnswer, MarketConditions, ReplaceAnswer
from brokers.simulated import SimulatedBroker
from messages.events import ApprovalDecided, ApprovalRequested, SubmitTrade
from messages.trade import TradeRequest
from workers.handlers.deps import Deps, TradingPolicy
from workers.handlers.ports import ApprovalPost, Notice, notice_of
from workers.store.memory.store import MemoryTradeStore


class FakeNotifier:
    name = "fake"

    def __init__(self) -> None:
        self.sent: list[Notice] = []
        self.asked: list[ApprovalRequested] = []  # each post in the approvers' channel
        self.shown: list[tuple[ApprovalPost, ApprovalDecided]] = []  # each update of one

    async def notify(self, outcome: Notice) -> None:
        self.sent.append(outcome)

    async def already_told(self, outcome: Notice) -> bool:
        return any(
            told.trade.trade_id == outcome.trade.trade_id and notice_of(told) == notice_of(outcome)
            for told in self.sent
        )

    async def ask_approvers(self, request: ApprovalRequested) -> ApprovalPost:
        self.asked.append(request)
        return ApprovalPost(channel="C0APPROVALS", ts=f"{len(self.asked)}.000001")

    async def find_approval_post(self, request: ApprovalRequested) -> ApprovalPost | None:
        for number, asked in enumerate(self.asked, start=1):
            if asked.trade.trade_id == request.trade.trade_id:
                return ApprovalPost(channel="C0APPROVALS", ts=f"{number}.000001")
        return None

    async def show_decision(self, post: ApprovalPost, decided: ApprovalDecided) -> None:
        self.shown.append((post, decided))

    async def close(self) -> None:
        return None


class CountingBroker:
    """Wraps a StockBroker and counts the orders it was asked to execute."""

    name = "counting"

    def __init__(self, inner: Any, market: MarketConditions | None = None) -> None:
        self.inner = inner
        self.market = market
        self.calls: list[uuid.UUID] = []
        self.first_attempts: list[bool] = []
        self.resumed: list[uuid.UUID] = []

    async def execute(self, trade: TradeRequest, *, first_attempt: bool = True) -> BrokerResult:
        self.calls.append(trade.trade_id)
        self.first_attempts.append(first_attempt)
        return await self.inner.execute(trade, first_attempt=first_attempt)

    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> BrokerResult:
        self.resumed.append(trade.trade_id)
        return await self.inner.resume(trade, broker_order_id)

    async def cancel(self, trade: TradeRequest, broker_order_id: str | None) -> CancelAnswer:
        return await self.inner.cancel(trade, broker_order_id)

    async def account_positions(self) -> dict[str, Decimal] | None:
        return await self.inner.account_positions()

    async def conditions(self, symbol: str) -> MarketConditions:
        return self.market if self.market is not None else await self.inner.conditions(symbol)

    async def reference_price(self, symbol: str) -> Decimal | None:
        return Decimal(100)

    async def admission(self, trade: TradeRequest) -> float:
        return 0.0

    async def open_orders(self) -> frozenset[str] | None:
        return None

    async def close(self) -> None:
        return None


class ScriptedBroker:
    """Answers execute and resume from a script, as a stock broker with resting orders would."""

    name = "scripted"

    def __init__(
        self,
        *results: BrokerResult,
        cancels: tuple[CancelAnswer, ...] = (),
        replaces: tuple[ReplaceAnswer, ...] = (),
    ) -> None:
        self.script = list(results)
        self.cancels = list(cancels)
        self.replaces = list(replaces)
        self.calls: list[str] = []

    async def execute(self, trade: TradeRequest, *, first_attempt: bool = True) -> BrokerResult:
        self.calls.append("execute")
        return self.script.pop(0)

    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> BrokerResult:
        self.calls.append(f"resume:{broker_order_id}")
        return self.script.pop(0)

    async def cancel(self, trade: TradeRequest, broker_order_id: str | None) -> CancelAnswer:
        self.calls.append(f"cancel:{broker_order_id}")
        return self.cancels.pop(0)

    async def account_positions(self) -> dict[str, Decimal] | None:
        return None  # no account to compare with

    async def replace(
        self, trade: TradeRequest, broker_order_id: str | None, replacement: TradeRequest
    ) -> ReplaceAnswer:
        self.calls.append(f"replace:{broker_order_id}")
        return self.replaces.pop(0)

    async def conditions(self, symbol: str) -> MarketConditions:
        return MarketConditions(tradable=True)

    async def reference_price(self, symbol: str) -> Decimal | None:
        return Decimal(100)

    async def admission(self, trade: TradeRequest) -> float:
        return 0.0

    async def open_orders(self) -> frozenset[str] | None:
        return None

    async def close(self) -> None:
        return None


class FakeRoles:
    """The roles each user holds, as given; everyone else holds none."""

    def __init__(self, accounts: dict[str, tuple[str, ...]] | None = None, **roles: set[str]) -> None:
        self.roles = roles
        self.accounts = accounts or {}
        self.asked: list[str] = []

    async def has_role(self, user_id: str, *roles: str) -> bool:
        self.asked.append(user_id)
        return bool(self.roles.get(user_id, set()) & set(roles))

    async def accounts_of(self, user_id: str) -> tuple[str, ...]:
        return self.accounts.get(user_id, ())


def policy(**overrides: Any) -> TradingPolicy:
    values: dict[str, Any] = {
        "symbols": frozenset({"AAPL", "MSFT", "TSLA"}),
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
        "notifier": FakeNotifier(),
        "policy": policy(),
        "retention_days": 2557,
        "roles": FakeRoles(U123={"trader"}, U456={"trader"}),
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
        # Now: the execution stage never places a trade submitted more than TRADEFLOW_STUCK_AFTER_S ago.
        "submitted_at": datetime.now(UTC),
    }
    values.update(overrides)
    return TradeRequest(**values)


def submit(**overrides: Any) -> SubmitTrade:
    return SubmitTrade(trade=trade(**overrides))
