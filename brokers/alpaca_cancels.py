"""Cancel one order at Alpaca (`DELETE /v2/orders/{order_id}`), answered in tradeflow's three words.

Alpaca answers 204 when it takes the cancel (the order goes `pending_cancel`, then `canceled`, each on the
trade_updates stream), 422 when the order is no longer cancelable (it filled or ended first), 404 when no
order has that id. A cancel places nothing, so it is resent like a read while Alpaca rate-limits it or its
gateway times out; no answer at all is BrokerUnavailable (the caller retries it).
"""

from __future__ import annotations

from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient

from brokers.alpaca_client import AlpacaCalls
from brokers.alpaca_mapping import order_not_found
from brokers.port import CancelAnswer


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
