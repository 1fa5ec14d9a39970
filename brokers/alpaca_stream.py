"""Alpaca's `trade_updates` stream, read by alpaca-py's TradingStream on its own thread.

It wakes whoever waits on an order, keeps each order's last state and fills as the stream reports them
(an order followed on a live stream needs no polling: alpaca_fills.py), moves the account's buying power
with each fill (`on_fill`), and tells an optional listener when an order is done (so reconciliation settles
a resting order without polling).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from alpaca.trading.models import Order
from alpaca.trading.stream import TradingStream

from brokers.alpaca_mapping import DONE, decimal_of
from brokers.shared_state import SharedState, SharedStateUnavailable
from messages.trade import Fill

logger = logging.getLogger("tradeflow.alpaca.stream")

FILL_EVENTS = frozenset({"fill", "partial_fill"})
DONE_EVENTS = frozenset({"fill", "canceled", "expired", "rejected", "done_for_day", "replaced"})
MAX_TRACKED_ORDERS = 10_000
ORDER_END_CLAIM_MS = 600_000


def claim_end(shared: SharedState, namespace: str, client_order_id: str) -> bool:
    """The first process to hear of an order's end claims it (the others let it be); with the shared
    state out of reach each acts, as a process alone would."""
    try:
        return shared.put_new(f"{namespace}:{client_order_id}", "1", ORDER_END_CLAIM_MS)
    except SharedStateUnavailable:
        return True


class TradeUpdates:
    """Fills and wake-ups by client order id, fed by the stream (polling remains the fallback)."""

    def __init__(self, *, api_key: str, secret_key: str, stream_url: str) -> None:
        self._stream = TradingStream(api_key, secret_key, paper=True, url_override=stream_url)
        self._stream.subscribe_trade_updates(self._on_update)
        self._fills: dict[str, list[Fill]] = defaultdict(list)
        self._orders: dict[str, Order] = {}
        self._waiters: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.on_done: Callable[[str], None] | None = None
        # Every process's stream hears every order of the account: `claim` (shared) lets one of them act
        # on an order's end; None: this process alone listens.
        self.claim: Callable[[str], bool] | None = None
        self.on_fill: Callable[[str, Decimal, Decimal], None] | None = None  # (side, quantity, price)

    @property
    def is_live(self) -> bool:
        """Connected, authenticated and listening (alpaca-py's TradingStream marks it so): events arrive."""
        return self._thread is not None and self._thread.is_alive() and bool(self._stream._running)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alpaca-trade-updates", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._stream.run()
        except Exception:  # the stream is an accelerator: polling still settles every order
            logger.exception("trade_updates stream stopped; falling back to polling")

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            try:
                # stop() alone leaves the receive loop waiting up to 5 s; closing the socket ends it now.
                self._stream.stop()
                loop = self._stream._loop
                if loop is not None and loop.is_running():
                    asyncio.run_coroutine_threadsafe(self._stream.close(), loop).result(timeout=2)
            except Exception:
                logger.warning("trade_updates stream did not stop cleanly", exc_info=True)
            self._thread.join(timeout=5)

    def waiter(self, client_order_id: str) -> asyncio.Event:
        """An event set whenever the stream reports on this order (call on the waiting loop)."""
        event = asyncio.Event()
        with self._lock:
            self._waiters[client_order_id] = (asyncio.get_running_loop(), event)
        return event

    def release(self, client_order_id: str) -> None:
        """Nobody here waits on the order any more (its end, if it comes, is the listener's to settle)."""
        with self._lock:
            self._waiters.pop(client_order_id, None)

    def forget(self, client_order_id: str) -> None:
        with self._lock:
            self._waiters.pop(client_order_id, None)
            self._fills.pop(client_order_id, None)
            self._orders.pop(client_order_id, None)

    def latest(self, client_order_id: str) -> Order | None:
        """The order as the stream last reported it (None: no event about it arrived here)."""
        with self._lock:
            return self._orders.get(client_order_id)

    def ended(self, client_order_id: str) -> Order | None:
        """The order, if the stream reported its end."""
        order = self.latest(client_order_id)
        return order if order is not None and order.status in DONE else None

    def fills(self, client_order_id: str) -> list[Fill]:
        with self._lock:
            return list(self._fills.get(client_order_id, ()))

    async def _on_update(self, update: Any) -> None:
        order = update.order
        client_order_id = str(order.client_order_id)
        event = str(getattr(update.event, "value", update.event))
        fill = None
        with self._lock:
            if event in FILL_EVENTS and update.qty and update.price:
                at = update.timestamp or datetime.now(UTC)
                fill = Fill(quantity=decimal_of(update.qty), price=decimal_of(update.price), timestamp=at)
                self._fills[client_order_id].append(fill)
                while len(self._fills) > MAX_TRACKED_ORDERS:
                    self._fills.pop(next(iter(self._fills)))
            self._orders[client_order_id] = order
            while len(self._orders) > MAX_TRACKED_ORDERS:
                self._orders.pop(next(iter(self._orders)))
            waiting = self._waiters.get(client_order_id)
        if fill is not None and self.on_fill is not None:
            side = str(getattr(order.side, "value", order.side))
            self.on_fill(side, fill.quantity, fill.price)
        if waiting is not None:
            loop, wake = waiting
            loop.call_soon_threadsafe(wake.set)
        if event not in DONE_EVENTS or self.on_done is None:
            return
        try:
            # One process acts on an order's end: the one following it settles it itself; else the first
            # to claim it tells the listener (which settles its trade if it is still open).
            first = self.claim(client_order_id) if self.claim is not None else True
            if first and waiting is None:
                self.on_done(client_order_id)
        except Exception:
            logger.exception("on_done listener failed for %s", client_order_id)
