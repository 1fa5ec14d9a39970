"""The fill model: when orders go live, fill, partially fill, expire, get canceled or rejected.

Market orders while the market is closed: Alpaca accepts them (HTTP 200) and queues them. Its docs
("Orders at Alpaca" › Orders Submitted Outside of Eligible Trading Hours): orders "that are not
eligible to be executed during extended hours will be queued and eligible for execution at the time
of the next market open"; its 2019 "Order-Queuing" announcement: calls made while the market is
closed "are accepted with a success status and the orders are routed to the marketplace at the next
available time"; the order's status meanwhile is `accepted` ("received by Alpaca, but hasn't yet
been routed … often outside of trading session hours"). Only extended_hours=true is refused for
anything but a DAY limit order (422 "extended hours order must be DAY limit orders"). In the pre-market
and after-hours sessions extended-hours orders trade and every other order is queued (sessions.py).

- While the market is open an accepted order goes `pending_new` → `new` (event `new`). While it is
  closed it stays `accepted` (event `accepted`) and goes live at the next open.
- A market order fills `fill_delay_ms` after it goes live, in `partial_fills` executions
  `partial_interval_ms` apart: buys at the ask, sells at the bid of that moment. Each execution emits
  `partial_fill` or, for the last, `fill`; `filled_qty` accumulates and `filled_avg_price` is the
  volume-weighted average of the executions.
- A limit order rests until the quote crosses it (buy: ask ≤ limit, sell: bid ≥ limit), then fills
  the same way at the crossing side of the quote, which is never worse than the limit. If the quote
  moves back before a later execution, the rest of the order rests again.
- A stop triggers when the last trade crosses the stop price (buy: ≥, sell: ≤) and then behaves as a
  market order (stop, trailing_stop) or a limit order (stop_limit); a trailing stop's stop price follows
  its high-water mark first (trailing.py). Order groups (bracket, oco, oto) follow legs.py.
- ioc/fok orders that cannot fill when they go live are canceled (liquidity is unlimited, so a fill
  is always complete); opg/cls are treated as day orders.
- At the close every resting day order (new or partially filled) expires (event `expired`), an
  extended-hours one at the end of after-hours; gtc orders stay. Queued orders go live at the next open.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

from emulators.alpaca import legs, trailing
from emulators.alpaca.account import Account
from emulators.alpaca.clock import MarketClock
from emulators.alpaca.config import EmulatorConfig
from emulators.alpaca.formats import NINE_PLACES, decimal_text, now_ns, rfc3339_ns
from emulators.alpaca.market import PriceBook
from emulators.alpaca.orders import HELD, Execution, Order, OrderBook
from emulators.alpaca.sessions import Session, expires_on_leaving, trades_in

ZERO = Decimal(0)
STOP_TYPES = frozenset({"stop", "stop_limit", "trailing_stop"})


class ExecutionEngine:
    def __init__(
        self,
        *,
        config: Callable[[], EmulatorConfig],
        clock: MarketClock,
        prices: PriceBook,
        account: Account,
        book: OrderBook,
        publish: Callable[[dict[str, Any]], None],
    ) -> None:
        self._config = config
        self.clock = clock
        self.prices = prices
        self.account = account
        self.book = book
        self._publish = publish
        self.executions: list[Execution] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # -- orders arriving and leaving ---------------------------------------------------------

    def accept(self, order: Order, *, reject: bool = False) -> None:
        """Take a new order (already in the book) into the market; `reject` fails it shortly after."""
        if order.status == HELD:
            return  # a held leg's replacement: it waits like the leg it replaced
        if reject:
            self._spawn(self._reject_later(order))
        elif trades_in(self.clock.session, order.extended_hours):
            self.go_live(order)
        else:
            order.status = "accepted"
            self._emit("accepted", order, order.touch())

    def cancel(self, order: Order, *, cascade: bool = True) -> None:
        """Alpaca's two steps, each on the stream: `pending_cancel` as it is taken, then `canceled`;
        `cascade`: the rest of its order group is canceled too (legs.py)."""
        order.status = "pending_cancel"
        self._emit("pending_cancel", order, order.touch())
        order.status = "canceled"
        order.canceled_at_ns = order.touch()
        self._emit("canceled", order, order.canceled_at_ns)
        if cascade:
            legs.after_cancel(self, order)

    def replaced(self, old: Order, new: Order) -> None:
        """`old` leaves the market, replaced by `new` (which `accept` takes in next)."""
        old.status = "replaced"
        old.replaced_at_ns = old.touch()
        old.replaced_by, new.replaces = new.id, old.id
        self._emit("replaced", old, old.replaced_at_ns)

    def reject(self, order: Order) -> None:
        order.status = "rejected"
        order.failed_at_ns = order.touch()
        self._emit("rejected", order, order.failed_at_ns)
        legs.after_cancel(self, order)

    async def _reject_later(self, order: Order) -> None:
        await asyncio.sleep(self._config().fill_delay_ms / 1000)
        if order.is_open:
            self.reject(order)

    def go_live(self, order: Order) -> None:
        order.status = "new"
        if order.type == "trailing_stop":
            trailing.track(order, self.prices.last_trade(order.symbol).price)
        self._emit("new", order, order.touch())
        self._evaluate(order, first=True)

    # -- the market moving ------------------------------------------------------------------

    def on_prices(self, symbols: list[str]) -> None:
        """Re-examine resting orders in symbols whose price just moved."""
        if self.clock.session == "closed":
            return
        moved = set(symbols)
        for order in self.book.open_orders():
            if order.symbol in moved and (order.status in ("new", "partially_filled") or order.armed):
                self._evaluate(order)

    def session_changed(self, old: Session) -> None:
        """The clock left session `old` (sessions.py): day orders expire, queued orders go to market."""
        new = self.clock.session
        for order in self.book.open_orders():
            live = order.status in ("new", "partially_filled", "pending_new", HELD)
            tif, extended = order.time_in_force, order.extended_hours
            if live and not order.executing and expires_on_leaving(old, new, tif, extended):
                order.status = "expired"
                order.expired_at_ns = order.touch()
                self._emit("expired", order, order.expired_at_ns)
            elif order.status == "accepted" and trades_in(new, extended):
                self.go_live(order)
            elif (order.status in ("new", "partially_filled") or order.armed) and trades_in(new, extended):
                self._evaluate(order)

    # -- filling ----------------------------------------------------------------------------

    def _evaluate(self, order: Order, *, first: bool = False) -> None:
        if order.executing or not order.is_open or not trades_in(self.clock.session, order.extended_hours):
            return
        if order.status == HELD:  # an armed stop-loss leg: watched, not at market
            if order.armed and self._stop_crossed(order) and not legs.blocks_stop(order):
                order.stop_triggered = True
                legs.stop_hit(self, order)
            return
        if order.type in STOP_TYPES and not order.stop_triggered:
            if order.type == "trailing_stop":
                trailing.track(order, self.prices.last_trade(order.symbol).price)
            order.stop_triggered = self._stop_crossed(order)
        ready = order.type not in STOP_TYPES or order.stop_triggered
        if ready and self._execution_price(order) is not None:
            order.executing = True
            self._spawn(self._fill(order))
        elif first and order.time_in_force in ("ioc", "fok"):
            self.cancel(order)

    def _stop_crossed(self, order: Order) -> bool:
        last = self.prices.last_trade(order.symbol).price
        stop = order.stop_price or ZERO
        return last >= stop if order.side == "buy" else last <= stop

    def _execution_price(self, order: Order) -> Decimal | None:
        quote = self.prices.quote(order.symbol)
        price = quote.ask if order.side == "buy" else quote.bid
        if order.type in ("market", "stop", "trailing_stop"):
            return price
        limit = order.limit_price or ZERO
        crossed = price <= limit if order.side == "buy" else price >= limit
        return price if crossed else None

    async def _fill(self, order: Order) -> None:
        config = self._config()
        try:
            for index, piece in enumerate(order.pieces(config.partial_fills)):
                delay = config.fill_delay_ms if index == 0 else config.partial_interval_ms
                await asyncio.sleep(delay / 1000)
                if not order.is_open:
                    return
                price = self._execution_price(order)
                if price is None:
                    return  # the quote moved back through the limit: rest again
                self._execute(order, piece, price)
        finally:
            order.executing = False

    def _execute(self, order: Order, piece: Decimal, price: Decimal) -> None:
        if order.notional is not None:
            qty = (piece / price).quantize(NINE_PLACES, rounding=ROUND_DOWN)
            order.filled_notional += piece
        else:
            qty = piece
        at = now_ns()
        position_qty = self.account.apply_fill(order.asset, order.side, qty, price)
        order.filled_qty += qty
        order.filled_value += qty * price
        done = order.remaining_notional() <= 0 if order.notional is not None else order.remaining_qty() == 0
        order.status = "filled" if done else "partially_filled"
        order.touch(at)
        if done:
            order.filled_at_ns = at
        execution = Execution(
            str(uuid.uuid4()), order.id, order.client_order_id, order.symbol, order.side, qty, price, at
        )
        order.executions.append(execution)
        self.executions.append(execution)
        self._emit(
            "fill" if done else "partial_fill",
            order,
            at,
            execution_id=execution.id,
            price=decimal_text(price),
            qty=decimal_text(qty),
            position_qty=decimal_text(position_qty),
        )
        legs.after_execution(self, order, done)

    # -- plumbing ---------------------------------------------------------------------------

    def _emit(self, event: str, order: Order, at_ns: int, **fields: str) -> None:
        update: dict[str, Any] = {"event": event, "execution_id": str(uuid.uuid4())}
        update.update(fields)
        update["order"] = order.to_json(nested=True)
        update["timestamp"] = rfc3339_ns(at_ns)
        self._publish(update)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
