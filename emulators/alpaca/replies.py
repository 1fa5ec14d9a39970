"""Where route handlers find the exchange and the request's account, and how they write JSON the way Alpaca
does (compact)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from emulators.alpaca.brokerage import Brokerage
from emulators.alpaca.exchange import Exchange
from emulators.alpaca.faults import Fault

EXCHANGE = web.AppKey("exchange", Exchange)
# The account whose key pair the API request carries (set by app.api_middleware once it is known).
ACCOUNT = web.RequestKey("account", Brokerage)
# A reject / refuse_* fault picked for this order submission by the middleware.
ORDER_FAULT = web.RequestKey("order_fault", Fault)


def reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(
        data, status=status, dumps=lambda value: json.dumps(value, separators=(",", ":"))
    )


def exchange_of(request: web.Request) -> Exchange:
    return request.app[EXCHANGE]


def brokerage_of(request: web.Request) -> Brokerage:
    """The account an API request authenticated as."""
    return request[ACCOUNT]
