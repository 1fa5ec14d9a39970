"""FallbackBroker: Alpaca paper trading preferred, the simulation only when Alpaca is off or unreachable.

It falls back only when no order can exist at Alpaca, and only on a trade's first attempt: Alpaca
disabled, a safety check failed, or Alpaca unreachable before the order request left (BrokerUnavailable).
A later attempt (an earlier one died, maybe mid-order) is settled by Alpaca's answer alone: with Alpaca
unreachable it is retried; with Alpaca disabled it stays `unknown` until a worker that can ask Alpaca
settles it. Never simulated. Every result says which method ran.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from brokers.alpaca import AlpacaPaperBroker
from brokers.paper_guard import PaperGuardFailed
from brokers.port import (
    BrokerBusy,
    BrokerResult,
    BrokerUnavailable,
    CancelAnswer,
    MarketConditions,
    ReplaceAnswer,
)
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
        if not first_attempt and not self.alpaca_enabled:
            return await self._ask_alpaca(trade, None)
        if self.primary is None or self.disabled_reason:
            return await self.fallback.execute(trade)
        by = self.primary.attempt_deadline()  # one budget for all of this attempt's Alpaca requests
        try:
            return await self.primary.execute(trade, first_attempt=first_attempt, by=by)
        except PaperGuardFailed as exc:
            self._disable(str(exc))
            if not first_attempt:
                return await self._ask_alpaca(trade, by)
        except BrokerUnavailable as exc:
            if not first_attempt:
                return await self._settle_or_retry(trade, exc, by)
            logger.warning(
                "Alpaca unavailable before the order of %s was sent (%s): simulating", trade.trade_id, exc
            )
        return await self.fallback.execute(trade)

    async def _settle_or_retry(
        self, trade: TradeRequest, unavailable: BrokerUnavailable, by: float
    ) -> BrokerResult:
        """A later attempt, with Alpaca unreachable for its order: an order the earlier attempt sent is
        settled as found; with none found (or Alpaca not answering) the trade is retried, never simulated.
        """
        assert self.primary is not None
        found = await self.primary.resume(trade, None, by=by)  # BrokerUnavailable while Alpaca is silent
        if isinstance(found, OrderPending) and found.state == "unknown":
            raise unavailable
        return found

    async def _ask_alpaca(self, trade: TradeRequest, by: float | None) -> BrokerResult:
        """A later attempt that may send no order: Alpaca's answer about an earlier one, else unknown.

        Looking an order up sends none, so a safety check failing does not forbid it; with Alpaca not
        configured or not answering, the trade stays unknown and is settled when Alpaca can be asked.
        """
        if self.primary is not None:
            try:
                found = await self.primary.resume(trade, None, by=by)
            except (BrokerUnavailable, BrokerBusy) as exc:
                logger.warning("Alpaca cannot say whether trade %s has an order (%s)", trade.trade_id, exc)
            else:
                if not (isinstance(found, OrderPending) and found.state == "unknown"):
                    return found
        return OrderPending(
            state="unknown",
            execution_method="alpaca",
            reason=(
                f"Alpaca is disabled ({self.disabled_reason}) and an earlier attempt may have sent this "
                "trade's order: it is settled at Alpaca once Alpaca can be asked, never simulated"
            ),
        )

    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> BrokerResult:
        # An order that may exist at Alpaca is settled there or nowhere: never simulated.
        if self.primary is None:
            raise BrokerUnavailable(
                f"trade {trade.trade_id} may have an order at Alpaca, which is not configured"
            )
        return await self.primary.resume(trade, broker_order_id)

    async def cancel(self, trade: TradeRequest, broker_order_id: str | None) -> CancelAnswer:
        # A resting order is Alpaca's (the simulation decides at once): canceled there or nowhere. A cancel
        # sends no order, so a failed safety check (Alpaca disabled for orders) does not forbid it.
        if self.primary is None:
            return await self.fallback.cancel(trade, broker_order_id)
        return await self.primary.cancel(trade, broker_order_id)

    async def replace(
        self, trade: TradeRequest, broker_order_id: str | None, replacement: TradeRequest
    ) -> ReplaceAnswer:
        # A replacement is an order: not while the paper guard has Alpaca disabled.
        if self.primary is None:
            return await self.fallback.replace(trade, broker_order_id, replacement)
        if not self.alpaca_enabled:
            raise BrokerUnavailable(f"Alpaca is disabled ({self.disabled_reason}): no order may be sent")
        return await self.primary.replace(trade, broker_order_id, replacement)

    async def conditions(self, symbol: str) -> MarketConditions:
        if self.alpaca_enabled and self.primary is not None:
            try:
                return await self.primary.conditions(symbol)
            except PaperGuardFailed as exc:
                self._disable(str(exc))
            except (BrokerUnavailable, BrokerBusy) as exc:
                # Pre-trade checks only: the order itself still goes to Alpaca, which checks it again.
                logger.warning("Alpaca cannot answer pre-trade checks (%s): using the simulation's", exc)
        return await self.fallback.conditions(symbol)

    async def reference_price(self, symbol: str) -> Decimal | None:
        if self.alpaca_enabled and self.primary is not None:
            try:
                return await self.primary.reference_price(symbol)
            except BrokerBusy:
                return None  # Alpaca's price is not known right now; the simulation's is no stand-in
            except BrokerUnavailable:
                pass
        return await self.fallback.reference_price(symbol)

    async def display_price(self, symbol: str) -> Decimal | None:
        """A price to show a trader (their App Home): Alpaca's last quote however recent, never a request
        the budget needs for trades when one was read lately."""
        if self.alpaca_enabled and self.primary is not None:
            try:
                return await self.primary.display_price(symbol)
            except BrokerBusy:
                return None
            except BrokerUnavailable:
                pass
        return await self.fallback.reference_price(symbol)

    async def admission(self, trade: TradeRequest) -> float:
        if self.alpaca_enabled and self.primary is not None:
            return await self.primary.admission(trade)
        return 0.0

    async def account_positions(self) -> dict[str, Decimal] | None:
        # Reading the account sends no order: a failed safety check does not forbid it.
        return None if self.primary is None else await self.primary.account_positions()

    async def open_orders(self) -> frozenset[str] | None:
        if self.primary is None:
            return None
        try:
            return frozenset(await self.primary.open_orders())
        except (BrokerUnavailable, BrokerBusy) as exc:
            logger.warning("Alpaca's open orders could not be read (%s)", exc)
            return None

    async def close(self) -> None:
        if self.primary is not None:
            await self.primary.close()
        await self.fallback.close()
