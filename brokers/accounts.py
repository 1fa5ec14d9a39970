"""Several Alpaca paper accounts behind one StockBroker: each trade goes to its own account's broker.

Every account has its own broker (its key pair, paper guard, rate budget, `trade_updates` stream, buying
power); a trade's `account` picks it, None the default (the first). What names no trade asks across the
accounts: the open orders of all of them (client order ids are unique: they are trade ids), and the shares
held in all of them per symbol (tradeflow's positions sum a trader's symbol across accounts).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from brokers.port import BrokerResult, CancelAnswer, MarketConditions, ReplaceAnswer, StockBroker
from messages.trade import TradeRequest


class UnknownAccount(LookupError):
    """A trade names an account the desk has not configured."""


class AccountBrokers:
    def __init__(self, brokers: Mapping[str, StockBroker]) -> None:
        if not brokers:
            raise ValueError("at least one account")
        self.brokers = dict(brokers)
        self.default = next(iter(self.brokers))
        self.name = self.brokers[self.default].name

    def for_account(self, account: str | None) -> StockBroker:
        broker = self.brokers.get(account or self.default)
        if broker is None:
            raise UnknownAccount(f"no Alpaca account named {account!r} (known: {', '.join(self.brokers)})")
        return broker

    def _of(self, trade: TradeRequest) -> StockBroker:
        return self.for_account(trade.account)

    async def execute(self, trade: TradeRequest, *, first_attempt: bool = True) -> BrokerResult:
        return await self._of(trade).execute(trade, first_attempt=first_attempt)

    async def admission(self, trade: TradeRequest) -> float:
        return await self._of(trade).admission(trade)

    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> BrokerResult:
        return await self._of(trade).resume(trade, broker_order_id)

    async def cancel(self, trade: TradeRequest, broker_order_id: str | None) -> CancelAnswer:
        return await self._of(trade).cancel(trade, broker_order_id)

    async def replace(
        self, trade: TradeRequest, broker_order_id: str | None, replacement: TradeRequest
    ) -> ReplaceAnswer:
        return await self._of(trade).replace(trade, broker_order_id, replacement)

    async def conditions(self, symbol: str) -> MarketConditions:
        return await self.for_account(None).conditions(symbol)

    async def reference_price(self, symbol: str) -> Decimal | None:
        return await self.for_account(None).reference_price(symbol)

    async def open_orders(self) -> frozenset[str] | None:
        found: set[str] = set()
        for broker in self.brokers.values():
            orders = await broker.open_orders()
            if orders is None:
                return None
            found |= orders
        return frozenset(found)

    async def account_positions(self) -> dict[str, Decimal] | None:
        held: dict[str, Decimal] = {}
        for broker in self.brokers.values():
            positions = await broker.account_positions()
            if positions is None:
                return None
            for symbol, quantity in positions.items():
                held[symbol] = held.get(symbol, Decimal(0)) + quantity
        return held

    async def close(self) -> None:
        for broker in self.brokers.values():
            await broker.close()

    def __getattr__(self, name: str) -> Any:
        """Anything else (the App Home's display price, `account`, `verify`…) is the default account's."""
        return getattr(self.brokers[self.default], name)
