"""Cancel or replace one resting order at Alpaca: `DELETE /v2/orders/{order_id}`, answered in tradeflow's
three words, and `PATCH /v2/orders/{order_id}` (replace order), answered with the new order's id.

Alpaca answers 204 when it takes the cancel (the order goes `pending_cancel`, then `canceled`, each on the
trade_updates stream), 422 when the order is no longer cancelable (it filled or ended first), 404 when no
order has that id. A cancel places nothing, so it is resent like a read while Alpaca rate-limits it or its
gateway times out; no answer at all is BrokerUnavailable (the caller retries it).

A replace places an order, so it is sent once per attempt and never resent blind: the replacement's client
order id is its trade id, so an attempt first looks for it (an earlier attempt's, answered or not), and an
answer that is no answer (a timeout, a 5xx) is followed by that look. Alpaca refuses with 422 an order that
is not replaceable now (filled, canceled, or not at the exchange yet), with 403 a patch that changes nothing.
"""

from __future__ import annotations

from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import ReplaceOrderRequest

from brokers.alpaca_budget import RateLimitWait
from brokers.alpaca_client import AlpacaCalls, is_transport_error, rate_limited, retry_after_of
from brokers.alpaca_mapping import api_error_message, order_not_found
from brokers.port import BrokerUnavailable, CancelAnswer, RateLimited, ReplaceAnswer
from messages.trade import TradeRequest


async def cancel_order(
    trading: TradingClient, calls: AlpacaCalls, order_id: str | None, client_order_id: str, *, by: float
) -> CancelAnswer:
    """Cancel the order `order_id`, or the one whose client order id is `client_order_id` when the id is
    not known yet (an order whose placing was never answered)."""
    try:
        if order_id is None:
            order = await calls.read(trading.get_order_by_client_id, client_order_id, by=by)
            order_id = str(order.id)
        await calls.read(trading.cancel_order_by_id, order_id, by=by)
    except APIError as exc:
        if exc.status_code == 422:
            return "not_cancelable"
        if order_not_found(exc):
            return "not_found"
        raise
    return "requested"


async def replace_order(
    trading: TradingClient,
    calls: AlpacaCalls,
    order_id: str | None,
    trade: TradeRequest,
    replacement: TradeRequest,
    *,
    by: float,
) -> ReplaceAnswer:
    """Replace `trade`'s order with `replacement`'s quantity, prices and time in force."""
    found = await _by_client_id(trading, calls, str(replacement.trade_id), by=by)
    if found is not None:  # an earlier attempt's replacement
        return ReplaceAnswer(order_id=str(found.id))
    quantity = replacement.quantity
    if quantity is None or quantity != quantity.to_integral_value():
        return ReplaceAnswer(refusal="Alpaca replaces whole-share quantities only")
    if order_id is None:
        old = await _by_client_id(trading, calls, str(trade.trade_id), by=by)
        if old is None:
            return ReplaceAnswer(refusal="Alpaca holds no order for this trade")
        order_id = str(old.id)
    request = ReplaceOrderRequest(
        qty=int(quantity),
        time_in_force=TimeInForce(replacement.time_in_force),
        limit_price=None if replacement.limit_price is None else float(replacement.limit_price),
        stop_price=None if replacement.stop_price is None else float(replacement.stop_price),
        trail=_trail(replacement),
        client_order_id=str(replacement.trade_id),
    )
    try:
        order: Order = await calls.once(trading.replace_order_by_id, order_id, request, by=by)
    except RateLimitWait as refused:
        raise rate_limited(refused) from refused
    except APIError as exc:
        if exc.status_code == 429:
            raise RateLimited("Alpaca is rate limiting requests", retry_after_s=retry_after_of(exc)) from exc
        if exc.status_code in (403, 404, 422):
            return ReplaceAnswer(refusal=f"Alpaca would not replace the order: {api_error_message(exc)}")
        return await _after_no_answer(trading, calls, replacement, by, exc)
    except Exception as exc:
        if not is_transport_error(exc):
            raise
        return await _after_no_answer(trading, calls, replacement, by, exc)
    return ReplaceAnswer(order_id=str(order.id))


async def _after_no_answer(
    trading: TradingClient, calls: AlpacaCalls, replacement: TradeRequest, by: float, exc: Exception
) -> ReplaceAnswer:
    """The replace may have been done: look for the replacement; not there yet, the attempt is retried
    (and looks again first)."""
    found = await _by_client_id(trading, calls, str(replacement.trade_id), by=by)
    if found is None:
        raise BrokerUnavailable(f"Alpaca did not answer the replace ({exc!r}): looked for it, not found yet")
    return ReplaceAnswer(order_id=str(found.id))


async def _by_client_id(
    trading: TradingClient, calls: AlpacaCalls, client_order_id: str, *, by: float
) -> Order | None:
    try:
        order: Order = await calls.read(trading.get_order_by_client_id, client_order_id, by=by)
    except APIError as exc:
        if order_not_found(exc):
            return None
        raise
    return order


def _trail(trade: TradeRequest) -> float | None:
    """A trailing stop's new trail (Alpaca's replace takes one `trail`, in the order's own unit)."""
    trail = trade.trail_percent if trade.trail_percent is not None else trade.trail_price
    return None if trail is None else float(trail)
