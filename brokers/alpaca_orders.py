"""The account's open orders, paged: one request per 500 open orders (Alpaca's largest page).

`GET /v2/orders?status=open` answers at most `limit` orders (500 at most), filtered by submission time
(`after`, `until`, both exclusive) and sorted by it (`direction`). Pages are read oldest first, each
starting just before the last order of the page before (an order submitted in the same microsecond as
the boundary is not skipped; the overlap is read twice and counted once), until a page is short.
"""

from __future__ import annotations

import time
from datetime import timedelta

from alpaca.common.enums import Sort
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import Order
from alpaca.trading.requests import GetOrdersRequest

from brokers.alpaca_client import AlpacaCalls

PAGE = 500
MAX_PAGES = 200  # 100,000 open orders: far past any account this serves
OVERLAP = timedelta(microseconds=1)


async def open_orders(
    trading: TradingClient, calls: AlpacaCalls, *, by: float | None = None, page_size: int = PAGE
) -> dict[str, Order]:
    """Every open order by client order id; BrokerUnavailable/RateLimited when a page cannot be read."""
    found: dict[str, Order] = {}
    after = None
    for _ in range(MAX_PAGES):
        request = GetOrdersRequest(
            status=QueryOrderStatus.OPEN, limit=page_size, direction=Sort.ASC, after=after, nested=False
        )
        page: list[Order] = await calls.read(trading.get_orders, request, by=by or _reads_by(calls))
        fresh = [order for order in page if str(order.client_order_id) not in found]
        found.update((str(order.client_order_id), order) for order in page)
        if len(page) < page_size or not fresh:
            break
        after = max(order.submitted_at for order in page if order.submitted_at) - OVERLAP
    return found


def _reads_by(calls: AlpacaCalls) -> float:
    return time.monotonic() + 3 * calls.request_timeout_s
