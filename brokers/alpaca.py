"""AlpacaPaperBroker: orders on Alpaca's paper-trading API through alpaca-py, never placed twice.

The trade id is the client order id. The order request is sent once per attempt, never resent (alpaca-py's
own resend is off: brokers/alpaca_client.py). An answer that is not the order (a 5xx, a timeout, "client
order id must be unique", and on a later attempt any refusal, which an earlier attempt's order may explain)
is followed by looking the order up by client order id; a request that may have reached Alpaca is never
simulated (DESIGN §4, invariant 4). Every request of one execute or resume leaves and is answered within
`attempt_budget_s` of its start, which the composition root keeps well inside the trade's order lease.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.models import Order

from brokers.alpaca_client import (
    AUTH_FAILURES,
    AlpacaCalls,
    data_client,
    is_transport_error,
    never_left,
    trading_client,
)
from brokers.alpaca_fills import OrderFollower
from brokers.alpaca_mapping import (
    DUPLICATE_CLIENT_ORDER_ID,
    INSUFFICIENT_BUYING_POWER,
    api_error_code,
    decimal_of,
    order_not_found,
    order_request,
    pending_of,
    refusal_error,
)
from brokers.alpaca_stream import TradeUpdates
from brokers.paper_guard import PaperGuard
from brokers.port import BrokerBusy, BrokerResult, BrokerUnavailable, MarketConditions
from messages.trade import ExecutionError, TradeRequest

logger = logging.getLogger("tradeflow.alpaca")

LOOKUP_INTERVAL_S = 0.5
RESUME_WAIT_S = 2.0


class AlpacaPaperBroker:
    name = "alpaca"

    def __init__(
        self,
        *,
        api_key: str,
        secret_key: str,
        base_url: str,
        data_url: str,
        guard: PaperGuard,
        fill_timeout_s: float = 30.0,
        request_timeout_s: float = 10.0,
        attempt_budget_s: float | None = None,
        updates: TradeUpdates | None = None,
    ) -> None:
        self.guard = guard
        self.fill_timeout_s = fill_timeout_s
        self.attempt_budget_s = attempt_budget_s or fill_timeout_s + 4 * request_timeout_s
        self.trading = trading_client(
            api_key=api_key, secret_key=secret_key, base_url=base_url, timeout_s=request_timeout_s
        )
        self.data = data_client(
            api_key=api_key, secret_key=secret_key, data_url=data_url, timeout_s=request_timeout_s
        )
        self.updates = updates
        self.calls = AlpacaCalls(server=base_url, request_timeout_s=request_timeout_s)
        self.follower = OrderFollower(self.trading, self.calls, updates)

    def _reads_by(self) -> float:
        # A read outside an attempt (validation's checks, a notice's price): a few requests' worth.
        return time.monotonic() + 3 * self.calls.request_timeout_s

    async def account(self) -> Any:
        """Alpaca's account (alpaca-py's TradeAccount): number, cash, buying power, portfolio value."""
        return await self.calls.read(self.trading.get_account, by=self._reads_by())

    async def verify(self, *, by: float | None = None) -> str:
        """Run the four safety checks against the live account; returns the account number."""
        self.guard.check_configuration()
        account = await self.calls.read(self.trading.get_account, by=by or self._reads_by())
        self.guard.check_account(account.account_number)
        return str(account.account_number)

    async def reference_price(self, symbol: str, *, by: float | None = None) -> Decimal | None:
        quotes = await self.calls.read(
            self.data.get_stock_latest_quote,
            StockLatestQuoteRequest(symbol_or_symbols=symbol),
            by=by or self._reads_by(),
        )
        quote = quotes[symbol]
        bid, ask = decimal_of(quote.bid_price), decimal_of(quote.ask_price)
        if bid > 0 and ask > 0:
            return ((bid + ask) / 2).quantize(Decimal("0.0001"))
        return ask or bid or None

    async def conditions(self, symbol: str) -> MarketConditions:
        by = self._reads_by()
        asset, clock, account = await asyncio.gather(
            self._asset_or_none(symbol, by),
            self.calls.read(self.trading.get_clock, by=by),
            self.calls.read(self.trading.get_account, by=by),
        )
        return MarketConditions(
            tradable=bool(asset and asset.tradable),
            fractionable=bool(asset and asset.fractionable),
            shortable=bool(asset and asset.shortable),
            market_open=bool(clock.is_open),
            next_open=clock.next_open,
            buying_power=decimal_of(account.buying_power),
            source=self.name,
        )

    async def _asset_or_none(self, symbol: str, by: float) -> Any:
        try:
            return await self.calls.read(self.trading.get_asset, symbol, by=by)
        except APIError as exc:
            if exc.status_code == 404:  # Alpaca does not know the symbol: not tradable
                return None
            raise

    def attempt_deadline(self) -> float:
        """When an attempt starting now must have had every answer (time.monotonic())."""
        return time.monotonic() + self.attempt_budget_s

    async def execute(
        self, trade: TradeRequest, *, first_attempt: bool = True, by: float | None = None
    ) -> BrokerResult:
        """Place the order (or find the one an earlier attempt placed) and wait for its fill, by `by`
        (default: the attempt's budget from now)."""
        by = by or self.attempt_deadline()
        await self.verify(by=by)  # the safety checks run before every order, and never send one on failure
        reference = await self.reference_price(trade.symbol, by=by)
        if reference is None:
            raise BrokerUnavailable(f"no quote for {trade.symbol}")
        if by - time.monotonic() < self.calls.request_timeout_s:
            raise BrokerUnavailable(
                f"Alpaca answered too slowly: too little of the attempt's {self.attempt_budget_s:g} s is "
                "left to send the order and hear back, so it was not sent"
            )
        client_order_id = str(trade.trade_id)
        wake = self.updates.waiter(client_order_id) if self.updates else None
        started = time.perf_counter()
        placed = await self._place(trade, first_attempt, by)
        if isinstance(placed, ExecutionError):
            return placed
        if placed is None:
            return pending_of(
                None, "unknown", reason="the order request may have reached Alpaca", streamed=[]
            )
        try:
            return await self.follower.settle(
                trade, placed, reference, started, wake, self.fill_timeout_s, by, cancel_late_market=True
            )
        except (BrokerUnavailable, BrokerBusy) as exc:
            # The order exists: an outage now must never read as "nothing was sent" (the port's meaning of
            # BrokerUnavailable), or the caller could fall back and execute the trade a second time.
            logger.warning("Alpaca stopped answering about order %s (%s): left to reconcile", placed.id, exc)
            return pending_of(placed, "unknown", reason=f"Alpaca stopped answering: {exc}", streamed=[])

    async def _place(
        self, trade: TradeRequest, first_attempt: bool, by: float
    ) -> Order | ExecutionError | None:
        """Send the order request once: the order, Alpaca's refusal, or None while it stays unknown."""
        client_order_id = str(trade.trade_id)
        try:
            order: Order = await self.calls.once(self.trading.submit_order, order_request(trade), by=by)
            return order
        except APIError as exc:
            if api_error_code(exc) == DUPLICATE_CLIENT_ORDER_ID or (exc.status_code or 0) >= 500:
                logger.warning(
                    "Alpaca answered %s to order %s: looking it up", exc.status_code, client_order_id
                )
                return await self._find_or_unknown(client_order_id, by)
            if not first_attempt:
                # An earlier attempt's order may explain the refusal (it holds the buying power, the rate
                # limit counted it): if it exists, it is the answer.
                try:
                    earlier = await self._find(client_order_id, until=time.monotonic(), by=by)
                except (BrokerUnavailable, BrokerBusy) as unanswered:
                    logger.warning(
                        "Order %s refused and not found (%s): unknown", client_order_id, unanswered
                    )
                    return None
                if earlier is not None:
                    return earlier
            if exc.status_code == 429:
                raise BrokerBusy("Alpaca rate limited the order; nothing was placed") from exc
            if exc.status_code in AUTH_FAILURES and api_error_code(exc) != INSUFFICIENT_BUYING_POWER:
                raise BrokerUnavailable(f"Alpaca refused the credentials ({exc.status_code})") from exc
            return refusal_error(exc)
        except Exception as exc:
            if not is_transport_error(exc):
                raise
            if never_left(exc):
                raise BrokerUnavailable(f"Alpaca unreachable before the order was sent: {exc}") from exc
            logger.warning("Order %s may have reached Alpaca (%s): looking it up", client_order_id, exc)
            return await self._find_or_unknown(client_order_id, by)

    async def resume(
        self, trade: TradeRequest, broker_order_id: str | None, *, by: float | None = None
    ) -> BrokerResult:
        """Settle an order that may exist, by `by`; waits briefly, never places one."""
        by = by or self.attempt_deadline()
        client_order_id = str(trade.trade_id)
        wake = self.updates.waiter(client_order_id) if self.updates else None
        order = await self._find(client_order_id, until=time.monotonic(), by=by)
        if order is None:
            return pending_of(None, "unknown", reason="no order found for this trade yet", streamed=[])
        reference = await self.reference_price(trade.symbol, by=by) or decimal_of(order.filled_avg_price)
        wait_s = min(RESUME_WAIT_S, self.fill_timeout_s)
        return await self.follower.settle(trade, order, reference, None, wake, wait_s, by)

    async def _find(self, client_order_id: str, *, until: float, by: float) -> Order | None:
        """Look the order up by client order id until it is found, `until` passes or the budget runs out.

        None only when Alpaca's last answer was its 404 "order not found". An answer that is no answer
        (5xx, 429, a timeout, a dropped connection) is no verdict: at the end it is raised, as
        BrokerUnavailable or BrokerBusy, so a caller deciding "no order exists" retries instead.
        """
        while True:
            unanswered: BrokerUnavailable | BrokerBusy | None = None
            try:
                found: Order = await self.calls.read(
                    self.trading.get_order_by_client_id, client_order_id, by=by
                )
                return found
            except APIError as exc:
                if not order_not_found(exc):
                    raise
            except (BrokerUnavailable, BrokerBusy) as exc:
                unanswered = exc
            now = time.monotonic()
            if now >= until or now + LOOKUP_INTERVAL_S >= by:
                if unanswered is not None:
                    raise unanswered
                return None
            await asyncio.sleep(LOOKUP_INTERVAL_S)

    async def _find_or_unknown(self, client_order_id: str, by: float) -> Order | None:
        """After an order request that may have arrived: the order, or None while it stays unknown.

        Never BrokerUnavailable: the request may have reached Alpaca, so the simulation must not run.
        """
        try:
            return await self._find(client_order_id, until=time.monotonic() + self.fill_timeout_s, by=by)
        except (BrokerUnavailable, BrokerBusy) as exc:
            logger.warning("Order %s could not be looked up (%s): unknown for now", client_order_id, exc)
            return None

    async def close(self) -> None:
        if self.updates is not None:
            self.updates.stop()
        self.calls.close()
