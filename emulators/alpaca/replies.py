"""Where route handlers find the brokerage, and how they write JSON the way Alpaca does (compact)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from emulators.alpaca.brokerage import Brokerage
from emulators.alpaca.faults import Fault

BROKERAGE = web.AppKey("brokerage", Brokerage)
# A reject / refuse_* fault picked for this order submission by the middleware.
ORDER_FAULT = web.RequestKey("order_fault", Fault)


def reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(
        data, status=status, dumps=lambda value: json.dumps(value, separators=(",", ":"))
    )


def brokerage_of(request: web.Request) -> Brokerage:
    return request.app[BROKERAGE]
