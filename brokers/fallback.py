"""FallbackBroker: Alpaca paper trading preferred, the simulation only when Alpaca is off or unreachable.

It falls back only when no order can exist at Alpaca: Alpaca disabled, a safety check failed, or Alpaca
unreachable before the order request left (BrokerUnavailable). Every result says which method ran.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from brokers.alpaca import AlpacaPaperBroker
from brokers.paper_guard import PaperGuardFailed
from brokers.port import BrokerResult, BrokerUnavailable, MarketConditions
from brokers.simulated import SimulatedBroker
from messages.trade import OrderPending, TradeRequest

logger = logging.getLogger("tradeflow.fallback")


class FallbackBroker:
    name = "alpaca"

    def __init__(
        self, primary: AlpacaPaperBroker | None, fallback: SimulatedBroker, *, disabled_reason: str = ""
    ):
        self.primary = primary
        self.fallback = fallback
        self.disabled_reason = disabled_reason if primary is None else ""

    @property
    def alpaca_enabled(self) -> bool:
        return self.primary is not None and not self.disabled_reason

    def _disable(self, reason: str) -> None:
        logger.error("Alpaca paper trading DISABLED: %s. Trades run in simulation until restart.", reason)
        self.disabled_reason = reason

    async def execute(self, trade: TradeRequest, *, first_attempt: bool = True) -> BrokerResult:
        if self.primary is None:
            return await self.fallback.execute(trade)
        if self.disabled_reason:
            if not first_attempt:  # an earlier attempt may have an order at Alpaca: settle it there, later
                raise BrokerUnavailable(
                    f"Alpaca is disabled ({self.disabled_reason}) and trade "
                    f"{trade.trade_id} may have an order there from an earlier attempt"
                )
            return await self.fallback.execute(trade)
        try:
            return await self.primary.execute(trade, first_attempt=first_attempt)
        except PaperGuardFailed as exc:
            self._disable(str(exc))
            if not first_attempt:
                raise BrokerUnavailable(f"Alpaca disabled ({exc}) with a possible earlier order") from exc
        except BrokerUnavailable as exc:
            if not first_attempt:
                return await self._settle_or_simulate(trade, exc)
            logger.warning(
                "Alpaca unavailable before the order of %s was sent (%s): simulating", trade.trade_id, exc
            )
        return await self.fallback.execute(trade)

    async def _settle_or_simulate(self, trade: TradeRequest, unavailable: BrokerUnavailable) -> BrokerResult:
        """A later attempt, with Alpaca unreachable for its order: simulate only once Alpaca says no order.

        The lookup raises BrokerUnavailable while Alpaca cannot answer: the trade is retried, never
        simulated on a guess, so an order an earlier (killed) attempt sent is settled at Alpaca, once.
        """
        assert self.primary is not None
        found = await self.primary.resume(trade, None)
        if isinstance(found, OrderPending) and found.state == "unknown":
            logger.warning(
                "Alpaca unavailable for the order of %s (%s) and it holds none: simulating",
                trade.trade_id,
                unavailable,
            )
            return await self.fallback.execute(trade)
        return found

    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> BrokerResult:
        # An order that may exist at Alpaca is settled there or nowhere: never simulated.
        if self.primary is None:
            raise BrokerUnavailable(
                f"trade {trade.trade_id} may have an order at Alpaca, which is not configured"
            )
        return await self.primary.resume(trade, broker_order_id)

    async def conditions(self, symbol: str) -> MarketConditions:
        if self.alpaca_enabled and self.primary is not None:
            try:
                return await self.primary.conditions(symbol)
            except BrokerUnavailable as exc:
                logger.warning("Alpaca unavailable for pre-trade checks (%s): using the simulation's", exc)
        return await self.fallback.conditions(symbol)

    async def reference_price(self, symbol: str) -> Decimal | None:
        if self.alpaca_enabled and self.primary is not None:
            try:
                return await self.primary.reference_price(symbol)
            except BrokerUnavailable:
                pass
        return await self.fallback.reference_price(symbol)

    async def close(self) -> None:
        if self.primary is not None:
            await self.primary.close()
        await self.fallback.close()
