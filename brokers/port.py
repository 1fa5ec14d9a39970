"""The StockBroker port: where an order executes. Business outcomes are values, faults are exceptions."""

from __future__ import annotations

from typing import Protocol

from messages.trade import Execution, ExecutionError, TradeRequest


class BrokerUnavailable(Exception):
    """The stock broker could not be reached before any order was sent: transient, safe to retry."""


class StockBroker(Protocol):
    """Executes one trade, idempotently by `trade.trade_id` (the client order id)."""

    name: str

    async def execute(self, trade: TradeRequest) -> Execution | ExecutionError:
        """Execute the trade and return its fill, or the reason it did not fill."""
        ...

    async def close(self) -> None: ...
