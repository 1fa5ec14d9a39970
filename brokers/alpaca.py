"""AlpacaPaperBroker: orders on Alpaca's paper-trading API through alpaca-py, never placed twice.

The trade id is the client order id. A request that may have reached Alpaca is never resent blindly and
never simulated: the order is looked up by client order id (DESIGN §4, invariant 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.enums import OrderStatus, OrderType
from alpaca.trading.models import Order

from brokers.alpaca_client import data_client, is_transport_error, never_left, trading_client
from brokers.alpaca_mapping import (
    DONE,
    DUPLICATE_CLIENT_ORDER_ID,
    api_error_code,
    decimal_of,
    elapsed_ms_of,
    execution_of,
    fill_timeout_error,
    order_not_found,
    order_request,
    pending_of,
    refusal_error,
    unfilled_error,
)
from brokers.alpaca_stream import TradeUpdates
from brokers.paper_guard import PaperGuard
from brokers.port import BrokerBusy, BrokerResult, BrokerUnavailable, MarketConditions
from messages.trade import TradeRequest
from telemetry.client_spans import client_span

logger = logging.getLogger("tradeflow.alpaca")

POLL_INTERVAL_S = 0.5
LOOKUP_INTERVAL_S = 0.5
AUTH_FAILURES = frozenset({401, 403})


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
        updates: TradeUpdates | None = None,
    ) -> None:
        self.guard = guard
        self.fill_timeout_s = fill_timeout_s
        self.trading = trading_client(
            api_key=api_key, secret_key=secret_key, base_url=base_url, timeout_s=request_timeout_s
        )
        self.data = data_client(
            api_key=api_key, secret_key=secret_key, data_url=data_url, timeout_s=request_timeout_s
        )
        self.updates = updates
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="alpaca")

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        # alpaca-py answers Model | RawData; with raw_data off it is always the model.
        with client_span("alpaca", fn.__name__, **{"server.address": self.trading._base_url}):
            return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args))

    async def account(self) -> Any:
        """Alpaca's account (alpaca-py's TradeAccount): number, cash, buying power, portfolio value."""
        return await self._reach(self.trading.get_account)

    async def verify(self) -> str:
        """Run the four safety checks against the live account; returns the account number."""
        self.guard.check_configuration()
        account = await self._reach(self.trading.get_account)
        self.guard.check_account(account.account_number)
        return str(account.account_number)

    async def _reach(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A read that places nothing: any failure to get an answer means Alpaca is unavailable."""
        try:
            return await self._call(fn, *args)
        except APIError as exc:
            if exc.status_code in AUTH_FAILURES:
                raise BrokerUnavailable(f"Alpaca refused the credentials ({exc.status_code})") from exc
            if exc.status_code == 429:
                raise BrokerBusy("Alpaca is rate limiting requests") from exc
            if exc.status_code is not None and exc.status_code >= 500:
                raise BrokerUnavailable(f"Alpaca answered {exc.status_code}") from exc
            raise
        except Exception as exc:
            if is_transport_error(exc):
                raise BrokerUnavailable(f"Alpaca unreachable: {type(exc).__name__}") from exc
            raise

    async def reference_price(self, symbol: str) -> Decimal | None:
        quotes = await self._reach(
            self.data.get_stock_latest_quote, StockLatestQuoteRequest(symbol_or_symbols=symbol)
        )
        quote = quotes[symbol]
        bid, ask = decimal_of(quote.bid_price), decimal_of(quote.ask_price)
        if bid > 0 and ask > 0:
            return ((bid + ask) / 2).quantize(Decimal("0.0001"))
        return ask or bid or None

    async def conditions(self, symbol: str) -> MarketConditions:
        asset, clock, account = await asyncio.gather(
            self._asset_or_none(symbol),
            self._reach(self.trading.get_clock),
            self._reach(self.trading.get_account),
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

    async def _asset_or_none(self, symbol: str) -> Any:
        try:
            return await self._reach(self.trading.get_asset, symbol)
        except APIError as exc:
            if exc.status_code == 404:  # Alpaca does not know the symbol: not tradable
                return None
            raise

    async def execute(self, trade: TradeRequest, *, first_attempt: bool = True) -> BrokerResult:
        """Place the order (or find the one a crashed attempt placed) and wait for its fill."""
        await self.verify()  # the safety checks run before every order, and never send one on failure
        reference = await self.reference_price(trade.symbol)
        if reference is None:
            raise BrokerUnavailable(f"no quote for {trade.symbol}")
        client_order_id = str(trade.trade_id)
        wake = self.updates.waiter(client_order_id) if self.updates else None
        started = time.perf_counter()
        try:
            order: Order | None = await self._call(self.trading.submit_order, order_request(trade))
        except APIError as exc:
            if api_error_code(exc) == DUPLICATE_CLIENT_ORDER_ID:
                order = await self._find_or_unknown(client_order_id)
            elif exc.status_code == 429:
                raise BrokerBusy("Alpaca rate limited the order; nothing was placed") from exc
            elif exc.status_code is not None and exc.status_code >= 500:
                logger.warning(
                    "Alpaca answered %s to order %s: looking it up", exc.status_code, client_order_id
                )
                order = await self._find_or_unknown(client_order_id)
            elif exc.status_code in AUTH_FAILURES and api_error_code(exc) != 40310000:
                raise BrokerUnavailable(f"Alpaca refused the credentials ({exc.status_code})") from exc
            else:
                return refusal_error(exc)
        except Exception as exc:
            if not is_transport_error(exc):
                raise
            if never_left(exc):
                raise BrokerUnavailable(f"Alpaca unreachable before the order was sent: {exc}") from exc
            logger.warning("Order %s may have reached Alpaca (%s): looking it up", client_order_id, exc)
            order = await self._find_or_unknown(client_order_id)
        if order is None:
            return pending_of(
                None, "unknown", reason="the order request may have reached Alpaca", streamed=[]
            )
        try:
            return await self._settle(
                trade, order, reference, started, wake, self.fill_timeout_s, cancel_late_market=True
            )
        except (BrokerUnavailable, BrokerBusy) as exc:
            # The order exists: an outage now must never read as "nothing was sent" (the port's meaning of
            # BrokerUnavailable), or the caller could fall back and execute the trade a second time.
            logger.warning("Alpaca stopped answering about order %s (%s): left to reconcile", order.id, exc)
            return pending_of(order, "unknown", reason=f"Alpaca stopped answering: {exc}", streamed=[])

    async def resume(self, trade: TradeRequest, broker_order_id: str | None) -> BrokerResult:
        """Settle an order that may exist; waits briefly, never places one."""
        client_order_id = str(trade.trade_id)
        wake = self.updates.waiter(client_order_id) if self.updates else None
        order = await self._find(client_order_id, deadline=time.monotonic())
        if order is None:
            return pending_of(None, "unknown", reason="no order found for this trade yet", streamed=[])
        reference = await self.reference_price(trade.symbol) or decimal_of(order.filled_avg_price)
        return await self._settle(trade, order, reference, None, wake, min(2.0, self.fill_timeout_s))

    async def _find(self, client_order_id: str, *, deadline: float) -> Order | None:
        """Look the order up by client order id until it is found or the deadline passes.

        None only when Alpaca's last answer was its 404 "order not found". An answer that is no answer
        (5xx, 429, a timeout, a dropped connection) is no verdict: past the deadline it is raised, as
        BrokerUnavailable or BrokerBusy, so a caller deciding "no order exists" retries instead.
        """
        while True:
            unanswered: BrokerUnavailable | BrokerBusy | None = None
            try:
                return await self._reach(self.trading.get_order_by_client_id, client_order_id)
            except APIError as exc:
                if not order_not_found(exc):
                    raise
            except (BrokerUnavailable, BrokerBusy) as exc:
                unanswered = exc
            if time.monotonic() >= deadline:
                if unanswered is not None:
                    raise unanswered
                return None
            await asyncio.sleep(LOOKUP_INTERVAL_S)

    async def _find_or_unknown(self, client_order_id: str) -> Order | None:
        """After an order request that may have arrived: the order, or None while it stays unknown.

        Never BrokerUnavailable: the request may have reached Alpaca, so the simulation must not run.
        """
        try:
            return await self._find(client_order_id, deadline=time.monotonic() + self.fill_timeout_s)
        except (BrokerUnavailable, BrokerBusy) as exc:
            logger.warning("Order %s could not be looked up (%s): unknown for now", client_order_id, exc)
            return None

    async def _settle(
        self,
        trade: TradeRequest,
        order: Order,
        reference: Decimal,
        started: float | None,
        wake: asyncio.Event | None,
        wait_s: float,
        *,
        cancel_late_market: bool = False,
    ) -> BrokerResult:
        client_order_id = str(trade.trade_id)
        deadline = time.monotonic() + wait_s
        try:
            while order.status not in DONE and time.monotonic() < deadline:
                await self._pause(wake, deadline)
                order = await self._reach(self.trading.get_order_by_id, order.id)
            if order.status not in DONE and cancel_late_market and order.type == OrderType.MARKET:
                # A market order must not rest: cancel what is left and report what filled (maybe nothing).
                order = await self._cancel_remainder(order)
                if order.status in DONE and decimal_of(order.filled_qty) == 0:
                    return fill_timeout_error(order, wait_s)
            streamed = self.updates.fills(client_order_id) if self.updates else []
            elapsed_ms = elapsed_ms_of(order, started)
            filled = decimal_of(order.filled_qty)
            if order.status == OrderStatus.FILLED or (order.status in DONE and filled > 0):
                return execution_of(
                    trade, order, reference=reference, elapsed_ms=elapsed_ms, streamed=streamed
                )
            if order.status in DONE:
                return unfilled_error(order)
            reason = (
                "resting at Alpaca" if order.type != OrderType.MARKET else "not filled before the timeout"
            )
            return pending_of(order, "working", reason=reason, streamed=streamed)
        finally:
            if self.updates is not None and (order.status in DONE):
                self.updates.forget(client_order_id)

    async def _pause(self, wake: asyncio.Event | None, deadline: float) -> None:
        timeout = max(0.0, min(POLL_INTERVAL_S, deadline - time.monotonic()))
        if wake is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)
        wake.clear()

    async def _cancel_remainder(self, order: Order) -> Order:
        """Cancel what is left of an order and wait until Alpaca says it is done."""
        try:
            await self._call(self.trading.cancel_order_by_id, order.id)
        except APIError as exc:
            if exc.status_code != 422:  # 422: no longer cancelable (it just filled)
                raise
        deadline = time.monotonic() + 5.0
        while True:
            order = await self._reach(self.trading.get_order_by_id, order.id)
            if order.status in DONE or time.monotonic() >= deadline:
                return order
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        if self.updates is not None:
            self.updates.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
