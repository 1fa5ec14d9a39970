"""Trading API v2 routes: account, clock, assets, orders (submit, look up, replace, cancel) and positions
(the paths alpaca-py calls)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from emulators.alpaca import errors, sessions
from emulators.alpaca.formats import EASTERN, parse_instant, utc_now
from emulators.alpaca.orders import OrderQuery
from emulators.alpaca.replies import ORDER_FAULT, reply
from emulators.alpaca.replies import brokerage_of as _brokerage
from emulators.alpaca.validation import read_ticket

MAX_ORDERS_LIMIT = 500


async def get_account(request: web.Request) -> web.Response:
    brokerage = _brokerage(request)
    return reply(brokerage.account.to_json(brokerage.prices.mark))


async def get_clock(request: web.Request) -> web.Response:
    return reply(_brokerage(request).clock.to_json())


async def get_calendar(request: web.Request) -> web.Response:
    """Market days between `start` and `end` (dates or RFC 3339 times), as sessions.calendar lists them."""
    bounds = {}
    for name in ("start", "end"):
        text = request.query.get(name)
        moment = parse_instant(text) if text else None
        if text and moment is None:
            raise errors.invalid_parameter(f"invalid {name}: {text}")  # (emulator wording)
        bounds[name] = moment.date() if moment is not None else None
    now, session = utc_now().astimezone(EASTERN), _brokerage(request).clock.session
    return reply(sessions.calendar(bounds["start"], bounds["end"], now, session))


async def get_asset(request: web.Request) -> web.Response:
    symbol = request.match_info["symbol_or_id"]
    asset = _brokerage(request).assets.find(symbol)
    if asset is None:
        raise errors.asset_not_found(symbol)
    return reply(asset.to_json())


async def get_assets(request: web.Request) -> web.Response:
    """Every asset (alpaca-py's get_all_assets): `status` and `asset_class` filter, as Alpaca's do."""
    catalog = _brokerage(request).assets
    status, asset_class = request.query.get("status"), request.query.get("asset_class", "us_equity")
    assets = [catalog.find(symbol) for symbol in catalog.symbols()]
    listed = [a.to_json() for a in assets if a is not None and status in (None, "active")]
    return reply([a for a in listed if a["class"] == asset_class])


async def post_order(request: web.Request) -> web.Response:
    brokerage = _brokerage(request)
    body = await _json_body(request)
    fault = request.get(ORDER_FAULT)
    kind, message = (fault.kind, fault.spec.message) if fault else (None, None)
    order = brokerage.submit(read_ticket(body), fault=kind, message=message)
    answer = order.to_json(nested=True)  # the state at acceptance (legs too), before it goes to market
    brokerage.engine.accept(order, reject=kind == "reject")
    return reply(answer)


async def get_orders(request: web.Request) -> web.Response:
    query = _order_query(request.query)
    return reply([order.to_json(nested=query.nested) for order in _brokerage(request).book.query(query)])


async def get_order(request: web.Request) -> web.Response:
    order = _brokerage(request).book.get(request.match_info["order_id"])
    if order is None:
        raise errors.order_not_found()
    return reply(order.to_json(nested=_nested(request.query)))


async def get_order_by_client_id(request: web.Request) -> web.Response:
    client_order_id = request.query.get("client_order_id")
    if not client_order_id:
        raise errors.invalid_parameter("client_order_id is required")  # (emulator wording)
    order = _brokerage(request).book.by_client_order_id(client_order_id)
    if order is None:
        raise errors.order_not_found()
    return reply(order.to_json(nested=_nested(request.query)))


async def patch_order(request: web.Request) -> web.Response:
    """Replace an order (alpaca-py's replace_order_by_id): 200 with the new order."""
    brokerage = _brokerage(request)
    order, replaced = brokerage.replace(request.match_info["order_id"], await _json_body(request))
    answer = order.to_json()  # its state at acceptance, as for a new order
    brokerage.engine.accept(order, reject=not replaced)
    return reply(answer)


async def delete_order(request: web.Request) -> web.Response:
    _brokerage(request).cancel(request.match_info["order_id"])
    return web.Response(status=204)


async def delete_orders(request: web.Request) -> web.Response:
    brokerage = _brokerage(request)
    results = []
    for order in brokerage.book.open_orders():
        if not order.is_open:
            continue  # canceled with its order group a moment ago
        brokerage.engine.cancel(order)
        results.append({"id": order.id, "status": 200, "body": order.to_json()})
    return reply(results, status=207)


async def get_positions(request: web.Request) -> web.Response:
    brokerage = _brokerage(request)
    prices = brokerage.prices
    positions = sorted(brokerage.account.positions.values(), key=lambda p: p.asset.symbol)
    return reply(
        [p.to_json(prices.mark(p.asset.symbol), prices.opening_price(p.asset.symbol)) for p in positions]
    )


async def get_position(request: web.Request) -> web.Response:
    brokerage = _brokerage(request)
    asset = brokerage.assets.find(request.match_info["symbol_or_id"])
    position = brokerage.account.positions.get(asset.symbol) if asset else None
    if position is None:
        raise errors.position_not_found()
    symbol = position.asset.symbol
    return reply(position.to_json(brokerage.prices.mark(symbol), brokerage.prices.opening_price(symbol)))


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise errors.invalid_parameter("request body format is invalid") from None  # (emulator wording)


def _nested(params: Any) -> bool:
    """alpaca-py sends booleans as "True"/"False"; Alpaca reads "true"/"false" too."""
    return str(params.get("nested", "false")).lower() == "true"


def _order_query(params: Any) -> OrderQuery:
    status = params.get("status", "open")
    direction = params.get("direction", "desc")
    side = params.get("side")
    if status not in ("open", "closed", "all"):
        raise errors.invalid_parameter(f"invalid status: {status}")  # (emulator wording)
    if direction not in ("asc", "desc"):
        raise errors.invalid_parameter(f"invalid direction: {direction}")  # (emulator wording)
    if side not in (None, "buy", "sell"):
        raise errors.invalid_parameter(f"invalid side: {side}")  # (emulator wording)
    try:
        limit = int(params.get("limit", 50))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_ORDERS_LIMIT:
        raise errors.invalid_parameter("limit must be between 1 and 500")  # (emulator wording)
    moments = {}
    for name in ("after", "until"):
        text = params.get(name)
        moments[name] = parse_instant(text) if text else None
        if text and moments[name] is None:
            raise errors.invalid_parameter(f"invalid {name}: {text}")  # (emulator wording)
    symbols = params.get("symbols")
    return OrderQuery(
        status=status,
        limit=limit,
        after=moments["after"],
        until=moments["until"],
        direction=direction,
        side=side,
        symbols=frozenset(s.strip().upper() for s in symbols.split(",") if s.strip()) if symbols else None,
        nested=_nested(params),
    )


def add_routes(app: web.Application, prefix: str) -> None:
    route = app.router
    route.add_get(f"{prefix}/v2/account", get_account)
    route.add_get(f"{prefix}/v2/clock", get_clock)
    route.add_get(f"{prefix}/v2/calendar", get_calendar)
    route.add_get(f"{prefix}/v2/assets", get_assets)
    route.add_get(f"{prefix}/v2/assets/{{symbol_or_id}}", get_asset)
    route.add_post(f"{prefix}/v2/orders", post_order)
    route.add_get(f"{prefix}/v2/orders", get_orders)
    route.add_delete(f"{prefix}/v2/orders", delete_orders)
    route.add_get(f"{prefix}/v2/orders:by_client_order_id", get_order_by_client_id)
    route.add_get(f"{prefix}/v2/orders/{{order_id}}", get_order)
    route.add_patch(f"{prefix}/v2/orders/{{order_id}}", patch_order)
    route.add_delete(f"{prefix}/v2/orders/{{order_id}}", delete_order)
    route.add_get(f"{prefix}/v2/positions", get_positions)
    route.add_get(f"{prefix}/v2/positions/{{symbol_or_id}}", get_position)
