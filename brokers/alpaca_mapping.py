"""Pure translations between alpaca-py's models and tradeflow's execution record."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, OrderType, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)

from brokers.costs import MS_QUANTUM, adverse_bps, market_impact_bps
from messages.trade import Execution, ExecutionError, Fill, LegOrder, OrderPending, TradeRequest
from messages.types import LegKind

PRICE_TICK = Decimal("0.0001")
DUPLICATE_CLIENT_ORDER_ID = 40010001
INSUFFICIENT_BUYING_POWER = 40310000
NOT_FILLED = frozenset(
    {
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.DONE_FOR_DAY,
        OrderStatus.REPLACED,  # its remainder rests on as the replacement's order (another trade)
    }
)
DONE = NOT_FILLED | {OrderStatus.FILLED}


def order_request(trade: TradeRequest) -> OrderRequest:
    """The alpaca-py request for a trade; the trade id is the client order id (DESIGN §4, invariant 1)."""
    common: dict[str, object] = {
        "symbol": trade.symbol,
        "side": OrderSide.BUY if trade.side == "buy" else OrderSide.SELL,
        "time_in_force": TimeInForce(trade.time_in_force),
        "client_order_id": str(trade.trade_id),
    }
    if trade.notional is not None:
        common["notional"] = float(trade.notional)
    else:
        common["qty"] = _amount(trade.quantity)
    if trade.extended_hours:
        common["extended_hours"] = True
    common.update(_exits(trade))
    if trade.order_type == "limit":
        return LimitOrderRequest(**common, limit_price=float(trade.limit_price or 0))
    if trade.order_type == "stop":
        return StopOrderRequest(**common, stop_price=float(trade.stop_price or 0))
    if trade.order_type == "stop_limit":
        return StopLimitOrderRequest(
            **common, limit_price=float(trade.limit_price or 0), stop_price=float(trade.stop_price or 0)
        )
    if trade.order_type == "trailing_stop":
        if trade.trail_percent is not None:
            return TrailingStopOrderRequest(**common, trail_percent=float(trade.trail_percent))
        return TrailingStopOrderRequest(**common, trail_price=float(trade.trail_price or 0))
    return MarketOrderRequest(**common)


def _exits(trade: TradeRequest) -> dict[str, object]:
    """A bracket's, OCO's or OTO's class and exit legs (an OCO's take-profit is its own limit price)."""
    if trade.order_class == "simple":
        return {}
    exits: dict[str, object] = {"order_class": OrderClass(trade.order_class)}
    take_profit = trade.limit_price if trade.order_class == "oco" else trade.take_profit_price
    if take_profit is not None:
        exits["take_profit"] = TakeProfitRequest(limit_price=float(take_profit))
    if trade.stop_loss_price is not None:
        limit = trade.stop_loss_limit_price
        exits["stop_loss"] = StopLossRequest(
            stop_price=float(trade.stop_loss_price), limit_price=None if limit is None else float(limit)
        )
    return exits


def legs_of(order: Order) -> tuple[LegOrder, ...]:
    """The exit legs Alpaca shows under a bracket, OCO or OTO order (none for a simple one)."""
    legs = []
    for leg in order.legs or ():
        kind: LegKind = "take_profit" if leg.type == OrderType.LIMIT else "stop_loss"
        legs.append(
            LegOrder(
                order_id=str(leg.id),
                client_order_id=str(leg.client_order_id),
                leg=kind,
                side="buy" if leg.side == OrderSide.BUY else "sell",
                order_type=str(leg.type.value) if leg.type else "limit",  # type: ignore[arg-type]
                quantity=decimal_of(leg.qty),
                limit_price=None if leg.limit_price is None else decimal_of(leg.limit_price),
                stop_price=None if leg.stop_price is None else decimal_of(leg.stop_price),
                time_in_force=str(leg.time_in_force.value),  # type: ignore[arg-type]
            )
        )
    return tuple(legs)


def _amount(value: Decimal | None) -> float | int:
    """Whole shares as an int (alpaca-py sends "10", not "10.0"); fractions as a float."""
    if value is None:
        raise ValueError("an order for shares needs a quantity")
    return int(value) if value == value.to_integral() else float(value)


def decimal_of(value: object) -> Decimal:
    """alpaca-py gives strings (REST) or floats (stream); str() keeps what was on the wire."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float) and value.is_integer():
        return Decimal(int(value))  # a float of whole shares reads "10", not "10.0"
    return Decimal(str(value))


def api_error_code(exc: APIError) -> int | None:
    try:
        return int(exc.code)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None


def api_error_message(exc: APIError) -> str:
    try:
        return str(exc.message)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        return str(exc)


def fills_of(order: Order, streamed: list[Fill]) -> tuple[Fill, ...]:
    """Each fill as the stream reported it; when the stream missed some, one fill for the whole order."""
    filled = decimal_of(order.filled_qty)
    if streamed and sum((f.quantity for f in streamed), Decimal(0)) == filled:
        return tuple(streamed)
    if filled <= 0:
        return ()
    at = order.filled_at or order.updated_at or datetime.now(UTC)
    return (Fill(quantity=filled, price=decimal_of(order.filled_avg_price), timestamp=at),)


def execution_of(
    trade: TradeRequest, order: Order, *, reference: Decimal, elapsed_ms: float, streamed: list[Fill]
) -> Execution:
    """The seed's execution record from a (partly) filled order: VWAP price, slippage against the quote."""
    price = decimal_of(order.filled_avg_price).quantize(PRICE_TICK)
    quantity = decimal_of(order.filled_qty)
    return Execution(
        execution_id=uuid.uuid4(),
        execution_method="alpaca",
        execution_price=price,
        filled_quantity=quantity,
        execution_timestamp=order.filled_at or order.updated_at or datetime.now(UTC),
        execution_time_ms=Decimal(str(elapsed_ms)).quantize(MS_QUANTUM),
        reference_price=reference,
        slippage_bps=adverse_bps(trade.side, price, reference),
        market_impact_bps=market_impact_bps(quantity * price),
        alpaca_order_id=str(order.id),
        fills=fills_of(order, streamed),
        legs=legs_of(order),
    )


def unfilled_error(order: Order, *, exit_order: bool = False) -> ExecutionError:
    """Why an order ended with nothing filled, with next steps the trader can act on. An exit (a bracket's
    leg, an OCO) that Alpaca canceled was canceled with its group: the other exit filled, or the group was
    canceled."""
    status = order.status
    if exit_order and status == OrderStatus.CANCELED:
        code, message, step = ENDED_UNFILLED["exit_canceled"]
    elif status == OrderStatus.REJECTED:
        code, message, step = ENDED_UNFILLED["rejected"]
    elif status in (OrderStatus.EXPIRED, OrderStatus.DONE_FOR_DAY):
        code, message, step = ENDED_UNFILLED["expired"]
    elif status == OrderStatus.REPLACED:
        code, message, step = ENDED_UNFILLED["replaced"]
        message = message.format(replaced_by=order.replaced_by)
    else:
        code, message, step = ENDED_UNFILLED["canceled"]
    return ExecutionError(
        code=code,
        message=message,
        next_steps=(step,),
        execution_method="alpaca",
        alpaca_order_id=str(order.id),
    )


# How an order that ended with nothing filled is told: code, message, the trader's next step.
ENDED_UNFILLED = {
    "exit_canceled": (
        "EXIT_CANCELED",
        "Alpaca canceled this exit with its group: the other exit filled, or it was canceled",
        "Nothing to do if the other exit filled: its own message has the fill",
    ),
    "rejected": (
        "ORDER_REJECTED",
        "Alpaca rejected the order",
        "Check the symbol, quantity and prices, then submit again",
    ),
    "expired": (
        "ORDER_EXPIRED",
        "The order expired unfilled at the close",
        "Submit again during market hours, or use time in force gtc",
    ),
    "replaced": (
        "ORDER_REPLACED",
        "The order was modified: Alpaca's order {replaced_by} replaces it, none filled",
        "Follow the modified order: it is a trade of its own, with its own messages",
    ),
    "canceled": (
        "ORDER_CANCELED",
        "The order was canceled before it filled",
        "Submit again if you still want the trade",
    ),
}


def fill_timeout_error(order: Order, timeout_s: float) -> ExecutionError:
    return ExecutionError(
        code="FILL_TIMEOUT",
        message=f"The market order did not fill within {timeout_s:g} s and was canceled; nothing traded",
        next_steps=("Check market hours and the symbol's liquidity, then try again",),
        execution_method="alpaca",
        alpaca_order_id=str(order.id),
    )


def refusal_error(exc: APIError) -> ExecutionError:
    """Alpaca refused the order outright (nothing was placed)."""
    code, message = api_error_code(exc), api_error_message(exc)
    if code == INSUFFICIENT_BUYING_POWER:
        return ExecutionError(
            code="INSUFFICIENT_BUYING_POWER",
            message=f"Insufficient buying power: {message}",
            next_steps=("Reduce the quantity or free up buying power",),
            execution_method="alpaca",
        )
    if "tradable" in message.lower() or "not found" in message.lower() or exc.status_code == 404:
        return ExecutionError(
            code="SYMBOL_NOT_TRADABLE",
            message=f"Alpaca cannot trade this symbol: {message}",
            next_steps=("Pick a tradable symbol",),
            execution_method="alpaca",
        )
    return ExecutionError(
        code="ORDER_REJECTED",
        message=f"Alpaca rejected the order: {message}",
        next_steps=("Check the order's fields against Alpaca's message, then submit again",),
        execution_method="alpaca",
    )


def pending_of(order: Order | None, state: str, *, reason: str, streamed: list[Fill]) -> OrderPending:
    return OrderPending(
        state="working" if state == "working" else "unknown",
        execution_method="alpaca",
        alpaca_order_id=str(order.id) if order is not None else None,
        reason=reason,
        fills=fills_of(order, streamed) if order is not None else (),
        legs=legs_of(order) if order is not None else (),
    )


ORDER_NOT_FOUND = 40410000  # with 404 and "order not found"; Alpaca uses the code for other 404s too


def order_not_found(exc: APIError) -> bool:
    """Alpaca's own answer that no order has this id, not a 404 from a proxy or a wrong URL."""
    return (
        exc.status_code == 404
        and api_error_code(exc) == ORDER_NOT_FOUND
        and "order not found" in api_error_message(exc).lower()
    )


def elapsed_ms_of(order: Order, started: float | None) -> float:
    """From our submission when we timed it; for an order settled later, Alpaca's submitted-to-filled time."""
    if started is not None:
        return (time.perf_counter() - started) * 1000
    if order.filled_at is not None and order.submitted_at is not None:
        return max(0.0, (order.filled_at - order.submitted_at).total_seconds() * 1000)
    return 0.0
