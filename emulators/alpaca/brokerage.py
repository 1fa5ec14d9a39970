"""The emulated Alpaca brokerage: one paper account, its orders, and the market they trade in.

Everything lives on the server's one event loop, so nothing here needs a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from emulators.alpaca import errors, legs
from emulators.alpaca.account import Account
from emulators.alpaca.assets import AssetCatalog
from emulators.alpaca.clock import MarketClock
from emulators.alpaca.config import EmulatorConfig, updated
from emulators.alpaca.engine import ExecutionEngine
from emulators.alpaca.faults import FaultBoard
from emulators.alpaca.market import PriceBook
from emulators.alpaca.orders import Order, OrderBook
from emulators.alpaca.rate_limit import Lane, RateLimits
from emulators.alpaca.replace import replacement_ticket
from emulators.alpaca.risk import admit, available_buying_power, position_intent
from emulators.alpaca.sessions import Session, trades_in
from emulators.alpaca.stream import TradeUpdatesHub
from emulators.alpaca.traffic import TrafficLog
from emulators.alpaca.validation import OrderTicket

HEARTBEAT_S = 0.05
GTC_LIFETIME_DAYS = 90


class Brokerage:
    def __init__(self, config: EmulatorConfig) -> None:
        self.baseline = config
        self.hub = TradeUpdatesHub(lambda: (self.config.key_id, self.config.secret_key))
        self.faults = FaultBoard()
        self.traffic = TrafficLog()
        self._heartbeat: asyncio.Task[None] | None = None
        self._install(config)

    def _install(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = MarketClock(is_open=config.market_open)
        self.prices = PriceBook(seed=config.seed, step_bps=config.step_bps, spread_bps=config.spread_bps)
        self.assets = AssetCatalog(non_tradable=config.non_tradable, extra_symbols=config.extra_symbols)
        self.account = Account(
            starting_cash=config.starting_cash, seed=config.seed, account_number=config.account_number
        )
        self.book = OrderBook()
        self.rate_limits = RateLimits(self._rate_limit)
        self.engine = ExecutionEngine(
            config=lambda: self.config,
            clock=self.clock,
            prices=self.prices,
            account=self.account,
            book=self.book,
            publish=self.hub.publish,
        )

    def _rate_limit(self, lane: Lane) -> tuple[int, int]:
        limit = self.config.rate_limit if lane == "trading" else self.config.data_rate_limit
        return limit, self.config.rate_limit_window_s

    # -- administration ---------------------------------------------------------------------

    async def reset(self, changes: dict[str, Any] | None = None) -> None:
        """Forget every order, position, fault, request and rate-limit window; start again from the start
        config."""
        config = updated(self.baseline, changes or {})
        self.engine.stop()
        await self.hub.close_all()
        self.faults.clear()
        self.traffic.clear()
        self._install(config)

    def reconfigure(self, changes: dict[str, Any]) -> None:
        """Change settings now; starting_cash and seed take effect at the next reset."""
        config = updated(self.config, changes)
        self.config = config
        if "account_number" in changes:  # the account turns live (or paper again) at once, orders kept
            self.account.account_number = config.account_number or self.account.paper_number
        self.prices.configure(step_bps=config.step_bps, spread_bps=config.spread_bps)
        self.assets = AssetCatalog(non_tradable=config.non_tradable, extra_symbols=config.extra_symbols)
        if "market_open" in changes and config.market_open != self.clock.is_open:
            self.set_market_open(config.market_open)

    def set_session(self, session: Session) -> None:
        self.engine.set_session(session)

    def set_market_open(self, is_open: bool, **schedule: Any) -> None:
        if is_open:
            self.engine.open_market(**schedule)
        else:
            self.engine.close_market(**schedule)

    # -- trading ----------------------------------------------------------------------------

    def submit(
        self,
        ticket: OrderTicket,
        *,
        fault: str | None = None,
        message: str | None = None,
        replacing: Order | None = None,
    ) -> Order:
        """Admit and store an order, or raise Alpaca's refusal; the order goes to market after. An order
        `replacing` another is admitted beside the others but that one (buying power holds the larger)."""
        if self.book.by_client_order_id(ticket.client_order_id) is not None:
            raise errors.duplicate_client_order_id()
        asset = self.assets.find(ticket.symbol)
        if asset is None:
            raise errors.unprocessable(f'asset "{ticket.symbol}" not found')
        if fault == "refuse_buying_power":
            raise errors.insufficient_buying_power(
                self.account.buying_power(self.prices.mark), self._cost(ticket)
            )
        if fault == "refuse_order":
            raise errors.unprocessable(message or "unable to process order")
        group = legs.group_of(replacing) if replacing is not None else []
        others = [o for o in self.book.open_orders() if o not in group]
        if replacing is None or replacing.parent is None:  # a leg's replacement exits the group's position
            admit(ticket, asset, self.account, others, self.prices)
        trades_now = trades_in(self.clock.session, ticket.extended_hours)
        order = Order(
            client_order_id=ticket.client_order_id,
            asset=asset,
            side=ticket.side,
            type=ticket.type,
            time_in_force=ticket.time_in_force,
            qty=ticket.qty,
            notional=ticket.notional,
            limit_price=ticket.limit_price,
            stop_price=ticket.stop_price,
            extended_hours=ticket.extended_hours,
            position_intent=position_intent(ticket.side, self.account.position_qty(asset.symbol)),
            expires_at=self._expiry(ticket.time_in_force),
            status="pending_new" if trades_now or fault == "reject" else "accepted",
            trail_price=ticket.trail_price,
            trail_percent=ticket.trail_percent,
        )
        self.book.add(order)
        for leg in legs.build_legs(order, ticket):
            self.book.add(leg)
        return order

    def buying_power_refusal(self, ticket: OrderTicket | None) -> errors.AlpacaError:
        """Alpaca's 403 40310000 for this order now: what is left of the buying power, and its cost."""
        available = available_buying_power(self.account, self.book.open_orders(), self.prices)
        cost = self._cost(ticket) if ticket is not None else Decimal(0)
        return errors.insufficient_buying_power(max(Decimal(0), available), cost)

    def _cost(self, ticket: OrderTicket) -> Decimal:
        if ticket.notional is not None:
            return ticket.notional
        price = ticket.limit_price or ticket.stop_price or self.prices.quote(ticket.symbol).ask
        return price * (ticket.qty or Decimal(0))

    def _expiry(self, time_in_force: str) -> datetime:
        lifetime = timedelta(days=GTC_LIFETIME_DAYS if time_in_force == "gtc" else 0)
        return self.clock.session_close() + lifetime

    def replace(self, order_id: str, patch: Any) -> tuple[Order, bool]:
        """Alpaca's replace order (emulators/alpaca/replace.py): the new order, not yet at market (the
        caller answers with it, then `engine.accept`s it), and whether it replaced the old one. An old
        order in the middle of a fill wins the race: it fills, and the new one is to be rejected."""
        old = self.book.get(order_id)
        if old is None:
            raise errors.order_not_found()
        legs.check_replaceable(old)
        new = self.submit(replacement_ticket(old, patch), replacing=old)
        if old.executing:
            new.replaces = old.id
            return new, False
        legs.adopt(old, new)
        self.engine.replaced(old, new)
        return new, True

    def cancel(self, order_id: str) -> None:
        order = self.book.get(order_id)
        if order is None:
            raise errors.order_not_found()
        if not order.is_open:
            raise errors.not_cancelable(order.status)
        self.engine.cancel(order)

    # -- time passing -----------------------------------------------------------------------

    def start(self) -> None:
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def stop(self) -> None:
        self.engine.stop()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        await self.hub.close_all()

    async def _beat(self) -> None:
        """Move prices every tick; with auto_clock, open and close the market on its schedule."""
        last_tick = time.monotonic()
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            interval = self.config.tick_interval_ms / 1000
            if interval and time.monotonic() - last_tick >= interval:
                last_tick = time.monotonic()
                self.engine.on_prices(self.prices.step())
            due = self.clock.due() if self.config.auto_clock else None
            if due is not None:
                self.set_market_open(due == "open")
