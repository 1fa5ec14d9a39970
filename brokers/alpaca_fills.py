"""Following an accepted Alpaca order to its end: on a live trade_updates stream, its events alone (no
request at all, unless the stream says nothing of the order for STREAM_SILENCE_S); without one, polls. A
market order's remainder is canceled at the fill timeout, and the end read as the seed's execution record,
the reason nothing filled, or an order still open (`working`). Every request stays inside the attempt's `by`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from decimal import Decimal

from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus, OrderType
from alpaca.trading.models import Order

from brokers.alpaca_client import AlpacaCalls
from brokers.alpaca_mapping import (
    DONE,
    decimal_of,
    elapsed_ms_of,
    execution_of,
    fill_timeout_error,
    pending_of,
    unfilled_error,
)
from brokers.alpaca_stream import TradeUpdates
from brokers.port import HELD_REASON, BrokerResult
from messages.trade import TradeRequest

POLL_INTERVAL_S = 0.5
CANCEL_WAIT_S = 5.0
# On a live stream, an order the stream has said nothing about for this long is read once (and again after
# as long): an event lost in a reconnect must not leave the order followed blind.
STREAM_SILENCE_S = 3.0


class OrderFollower:
    def __init__(self, trading: TradingClient, calls: AlpacaCalls, updates: TradeUpdates | None) -> None:
        self.trading = trading
        self.calls = calls
        self.updates = updates

    async def settle(
        self,
        trade: TradeRequest,
        order: Order,
        reference: Decimal,
        started: float | None,
        wake: asyncio.Event | None,
        wait_s: float,
        by: float,
        *,
        cancel_late_market: bool = False,
    ) -> BrokerResult:
        """Wait up to `wait_s` for the order to end: its execution record, why nothing filled, or `working`.

        With `cancel_late_market`, a market order still open then is canceled and what filled is reported.
        """
        client_order_id = str(trade.trade_id)
        deadline = min(time.monotonic() + wait_s, by)
        try:
            order = await self._follow(order, client_order_id, wake, deadline, by)
            if order.status not in DONE and cancel_late_market and order.type == OrderType.MARKET:
                # A market order must not rest: cancel what is left and report what filled (maybe nothing).
                order = await self._cancel_remainder(order, by)
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
                return unfilled_error(order, exit_order=trade.leg is not None or trade.order_class == "oco")
            reason = (
                "resting at Alpaca" if order.type != OrderType.MARKET else "not filled before the timeout"
            )
            if order.status == OrderStatus.HELD:
                reason = HELD_REASON
            return pending_of(order, "working", reason=reason, streamed=streamed)
        finally:
            if self.updates is not None:
                if order.status in DONE:
                    self.updates.forget(client_order_id)
                else:  # still open: its end is settled by the stream's listener, not by this wait
                    self.updates.release(client_order_id)

    async def _follow(
        self, order: Order, client_order_id: str, wake: asyncio.Event | None, deadline: float, by: float
    ) -> Order:
        """The order at its end, or as it stands at `deadline`."""
        read_at = time.monotonic()
        while True:
            order = self._newest(order, client_order_id)
            now = time.monotonic()
            if order.status in DONE or now >= deadline:
                return order
            live = self.updates is not None and self.updates.is_live
            if live and self.updates is not None and self.updates.latest(client_order_id) is not None:
                # The stream follows it: no requests; a stream that drops meanwhile is noticed in time.
                await self._pause(wake, deadline, STREAM_SILENCE_S)
                continue
            if live and now - read_at < STREAM_SILENCE_S:
                await self._pause(wake, deadline, STREAM_SILENCE_S - (now - read_at))
                continue
            if not live:
                await self._pause(wake, deadline, POLL_INTERVAL_S)
            order = await self.calls.read(self.trading.get_order_by_id, order.id, by=by)
            read_at = time.monotonic()

    def _newest(self, order: Order, client_order_id: str) -> Order:
        """What was read, or what the stream reported since, whichever is later."""
        streamed = self.updates.latest(client_order_id) if self.updates is not None else None
        if streamed is None or order.status in DONE:
            return order
        if streamed.status in DONE or (streamed.updated_at or order.updated_at) >= order.updated_at:
            return streamed
        return order

    async def _pause(self, wake: asyncio.Event | None, deadline: float, longest: float) -> None:
        timeout = max(0.0, min(longest, deadline - time.monotonic()))
        if wake is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)
        wake.clear()

    async def _cancel_remainder(self, order: Order, by: float) -> Order:
        """Cancel what is left of an order and wait until Alpaca says it is done."""
        try:
            await self.calls.read(self.trading.cancel_order_by_id, order.id, by=by)
        except APIError as exc:
            if exc.status_code != 422:  # 422: no longer cancelable (it just filled)
                raise
        deadline = min(time.monotonic() + CANCEL_WAIT_S, by)
        while True:
            order = await self.calls.read(self.trading.get_order_by_id, order.id, by=by)
            if order.status in DONE or time.monotonic() >= deadline:
                return order
            await asyncio.sleep(0.1)
