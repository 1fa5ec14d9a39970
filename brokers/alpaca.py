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
from functools import partial
from typing import Any

import msgspec
from alpaca.common.exceptions import APIError
from alpaca.trading.models import Order
from alpaca.trading.requests import GetOrderByIdRequest

from brokers.alpaca_budget import AccountBudget, RateLimitWait
from brokers.alpaca_cancels import cancel_order, replace_order
from brokers.alpaca_client import (
    AUTH_FAILURES,
    AlpacaCalls,
    data_client,
    is_transport_error,
    never_left,
    rate_limited,
    retry_after_of,
    trading_client,
)
from brokers.alpaca_fills import OrderFollower
from brokers.alpaca_mapping import (
    DUPLICATE_CLIENT_ORDER_ID,
    INSUFFICIENT_BUYING_POWER,
    api_error_code,
    legs_of,
    order_not_found,
    order_request,
    pending_of,
    refusal_error,
)
from brokers.alpaca_orders import open_orders
from brokers.alpaca_reads import EXECUTION_QUOTE_AGE_S, AlpacaReads
from brokers.alpaca_stream import TradeUpdates, claim_end
from brokers.alpaca_views import QUOTES_KEY, QuoteBook
from brokers.paper_guard import PaperGuard
from brokers.port import (
    BrokerBusy,
    BrokerResult,
    BrokerUnavailable,
    CancelAnswer,
    MarketConditions,
    RateLimited,
    ReplaceAnswer,
)
from brokers.shared_state import MemoryState, SharedState
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
        budget: AccountBudget | None = None,
        shared: SharedState | None = None,
        account_max_age_s: float = 60.0,
        quote_max_age_s: float = 30.0,
    ) -> None:
        self.guard = guard
        self.fill_timeout_s = fill_timeout_s
        self.attempt_budget_s = attempt_budget_s or fill_timeout_s + 4 * request_timeout_s
        self.budget = budget  # None: no shared budget (the transport counts nothing)
        self.trading = trading_client(
            api_key=api_key,
            secret_key=secret_key,
            base_url=base_url,
            timeout_s=request_timeout_s,
            budget=budget,
        )
        self.data = data_client(
            api_key=api_key,
            secret_key=secret_key,
            data_url=data_url,
            timeout_s=request_timeout_s,
            budget=budget,
        )
        self.updates = updates
        self.calls = AlpacaCalls(server=base_url, request_timeout_s=request_timeout_s)
        quotes = QuoteBook(shared or MemoryState(), f"{QUOTES_KEY}:{data_url}")
        self.reads = AlpacaReads(
            self.trading,
            self.data,
            self.calls,
            guard,
            quotes,
            account_max_age_s=account_max_age_s,
            quote_max_age_s=quote_max_age_s,
        )
        if updates is not None:
            updates.on_fill = self.reads.account.on_fill
            if shared is not None:
                updates.claim = partial(claim_end, shared, f"tradeflow:alpaca-ends:{base_url}")
        self.follower = OrderFollower(self.trading, self.calls, updates)

    async def account(self) -> Any:
        """Alpaca's account (alpaca-py's TradeAccount): number, cash, buying power, portfolio value."""
        return await self.calls.read(self.trading.get_account, by=self.reads.reads_by())

    async def verify(self, *, by: float | None = None) -> str:
        """Run the four safety checks against the live account, read now; returns the account number."""
        self.guard.check_configuration()
        account = await self.calls.read(self.trading.get_account, by=by or self.reads.reads_by())
        self.guard.check_account(account.account_number)
        return str(account.account_number)

    async def reference_price(self, symbol: str) -> Decimal | None:
        return await self.reads.reference_price(symbol)

    async def display_price(self, symbol: str) -> Decimal | None:
        return await self.reads.display_price(symbol)

    async def conditions(self, symbol: str) -> MarketConditions:
        return await self.reads.conditions(symbol, source=self.name)

    async def admission(self, trade: TradeRequest) -> float:
        """Seconds before this trade's order may leave under the account's shared budget (0: now)."""
        if self.budget is None:
            return 0.0
        waiter = str(trade.trade_id)
        trading = await self.calls.local(self.budget.admission, "trading", waiter)
        return trading or await self.calls.local(self.budget.admission, "data", waiter)

    async def account_positions(self) -> dict[str, Decimal]:
        return await self.reads.account_positions()

    async def open_orders(self) -> dict[str, Order]:
        """Every open order of the account by client order id, in as few requests as Alpaca's pages allow."""
        return await open_orders(self.trading, self.calls, by=self.reads.reads_by())

    def attempt_deadline(self) -> float:
        """When an attempt starting now must have had every answer (time.monotonic())."""
        return time.monotonic() + self.attempt_budget_s

    async def execute(
        self, trade: TradeRequest, *, first_attempt: bool = True, by: float | None = None
    ) -> BrokerResult:
        """Place the order (or find the one an earlier attempt placed) and wait for its fill, by `by`
        (default: the attempt's budget from now)."""
        by = by or self.attempt_deadline()
        # The safety checks run before every order and never send one on failure: the configuration now,
        # the account's number on every read of the account (at most account_max_age_s ago).
        self.guard.check_configuration()
        await self.reads.account.current()
        wait = await self.admission(trade)
        if wait > 0:
            raise RateLimited("the account's Alpaca budget is spent: the order waits", retry_after_s=wait)
        reference = await self.reads.quote(
            trade.symbol, max_age_s=EXECUTION_QUOTE_AGE_S, since=trade.submitted_at.timestamp(), by=by
        )
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
            settled = await self.follower.settle(
                trade, placed, reference, started, wake, self.fill_timeout_s, by, cancel_late_market=True
            )
            return await self._with_legs(trade, settled, by)
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
        except RateLimitWait as refused:  # held back before it left: nothing was sent
            raise rate_limited(refused) from refused
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
                raise RateLimited(
                    "Alpaca rate limited the order; nothing was placed", retry_after_s=retry_after_of(exc)
                ) from exc
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
        # An order the stream saw end needs no lookup: the stream's last word is Alpaca's.
        order = self.updates.ended(client_order_id) if self.updates else None
        if order is None and trade.leg_order_id is not None:  # a leg: Alpaca's own id names it
            order = await self.calls.read(self.trading.get_order_by_id, trade.leg_order_id, by=by)
        if order is None:
            order = await self._find(client_order_id, until=time.monotonic(), by=by)
        if order is None:
            return pending_of(None, "unknown", reason="no order found for this trade yet", streamed=[])
        wait_s = min(RESUME_WAIT_S, self.fill_timeout_s)
        settled = await self.follower.settle(
            trade, order, self.reads.settled_reference(trade, order), None, wake, wait_s, by
        )
        return await self._with_legs(trade, settled, by)

    async def _with_legs(self, trade: TradeRequest, result: BrokerResult, by: float) -> BrokerResult:
        """A bracket's, OCO's or OTO's outcome with its exit legs: Alpaca lists them under the order only
        when asked `nested` (the order the stream or the submit answer gave may lack them)."""
        if trade.order_class == "simple" or isinstance(result, ExecutionError) or result.legs:
            return result
        if result.alpaca_order_id is None:
            return result
        nested = GetOrderByIdRequest(nested=True)
        order = await self.calls.read(self.trading.get_order_by_id, result.alpaca_order_id, nested, by=by)
        return msgspec.structs.replace(result, legs=legs_of(order))

    async def cancel(self, trade: TradeRequest, broker_order_id: str | None) -> CancelAnswer:
        by = self.reads.reads_by()
        return await cancel_order(self.trading, self.calls, broker_order_id, str(trade.trade_id), by=by)

    async def replace(
        self, trade: TradeRequest, broker_order_id: str | None, replacement: TradeRequest
    ) -> ReplaceAnswer:
        by = self.reads.reads_by()
        return await replace_order(self.trading, self.calls, broker_order_id, trade, replacement, by=by)

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
        self.reads.quotes.state.close()
