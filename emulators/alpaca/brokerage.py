"""One paper account at the emulated Alpaca: its cash and positions, its orders and their execution, and
what its API key pair has been answered (faults, rate-limit window, request log). The market it trades in
(clock, prices, assets) is the exchange's, shared by every account (exchange.Exchange).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emulators.alpaca import errors, legs
from emulators.alpaca.account import Account
from emulators.alpaca.assets import AssetCatalog
from emulators.alpaca.clock import MarketClock
from emulators.alpaca.config import AccountSpec, EmulatorConfig
from emulators.alpaca.engine import ExecutionEngine
from emulators.alpaca.faults import FaultBoard
from emulators.alpaca.market import PriceBook
from emulators.alpaca.orders import Order, OrderBook
from emulators.alpaca.rate_limit import Lane, RateLimits
from emulators.alpaca.replace import replacement_ticket
from emulators.alpaca.risk import admit, available_buying_power, position_intent
from emulators.alpaca.sessions import trades_in
from emulators.alpaca.traffic import TrafficLog
from emulators.alpaca.validation import OrderTicket

if TYPE_CHECKING:
    from emulators.alpaca.exchange import Exchange

GTC_LIFETIME_DAYS = 90


class Brokerage:
    def __init__(self, exchange: Exchange, spec: AccountSpec, *, first: bool = False) -> None:
        self.exchange = exchange
        self.spec = spec
        self.name = spec.name
        config = exchange.config
        self.faults = FaultBoard()
        self.traffic = TrafficLog()
        self.account = Account(
            starting_cash=spec.starting_cash if spec.starting_cash is not None else config.starting_cash,
            seed=config.seed,
            account_number=spec.account_number,
            label="" if first else f"/{spec.name}",  # the default account keeps its numbers
        )
        self.book = OrderBook()
        self.rate_limits = RateLimits(self._rate_limit)
        self.engine = ExecutionEngine(
            config=lambda: self.exchange.config,
            clock=exchange.clock,
            prices=exchange.prices,
            account=self.account,
            book=self.book,
            publish=lambda update: self.exchange.hub.publish(update, account=self.name),
        )

    # The market, as the account sees it (the exchange's).

    @property
    def config(self) -> EmulatorConfig:
        return self.exchange.config

    @property
    def clock(self) -> MarketClock:
        return self.exchange.clock

    @property
    def prices(self) -> PriceBook:
        return self.exchange.prices

    @property
    def assets(self) -> AssetCatalog:
        return self.exchange.assets

    def _rate_limit(self, lane: Lane) -> tuple[int, int]:
        limit = self.config.rate_limit if lane == "trading" else self.config.data_rate_limit
        return limit, self.config.rate_limit_window_s

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
