"""The admin API under /admin: faults, clock, prices, config, reset, and what the emulator saw.

No credentials: it listens on loopback with the rest of the emulator and is for tests and operators.
The market (reset, config, clock, prices) is shared by every account. The views of one account (faults,
orders, executions, requests, stream, rate_limits, status) take `?account=NAME_OR_KEY_ID` and show the
default (first) account without it. Faults are per account: each strikes only the requests signed with
that account's keys (a request no account's keys sign meets the default account's); `market_closed`
closes the shared market and `drop_stream` drops that account's sockets.
  POST /admin/reset            {optional config changes}      back to the start state
  GET|POST /admin/config       {"fill_delay_ms": 10, "partial_fills": 3, …} (see EmulatorConfig)
  GET|POST|DELETE /admin/faults                               (see faults.py for the JSON)
  GET|POST /admin/clock        {"is_open": false, "next_open": "…", "next_close": "…"}, or
                               {"session": "pre"|"regular"|"post"|"closed"} (sessions.py); answers
                               /v2/clock's fields and the "session"
  GET|POST /admin/prices       {"symbol": "AAPL", "price": "180.00", "freeze": true}
  GET /admin/orders            every order accepted, in arrival order (Alpaca's order objects)
  GET /admin/executions        every execution: order id, client_order_id, qty, price, time
  GET|DELETE /admin/requests   API requests answered: counts by route, and the list (each with its
                               client_order_id, when it arrived and when it was answered)
  GET /admin/stream            how many trade_updates sockets are listening
  GET /admin/rate_limits       each API's limit and window, and per API key its requests counted in the
                               open window, what remains and when it resets; how many were refused
  GET /admin/status            all of the above in brief
  GET /admin/accounts          every account: name, key id, account number, cash
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from emulators.alpaca.brokerage import Brokerage
from emulators.alpaca.faults import FaultSpec
from emulators.alpaca.formats import parse_instant, to_decimal
from emulators.alpaca.replies import exchange_of, reply
from emulators.alpaca.sessions import SESSIONS


class AdminError(web.HTTPBadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(
            text=msgspec.json.encode({"error": message}).decode(), content_type="application/json"
        )


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise AdminError("body is not JSON") from None
    if not isinstance(body, dict):
        raise AdminError("body must be a JSON object")
    return body


def _account(request: web.Request) -> Brokerage:
    """The account `?account=` names (by name or key id); the default account when it names none."""
    named = request.query.get("account")
    brokerage = exchange_of(request).find(named)
    if brokerage is None:
        raise AdminError(f"no account named {named!r}")
    return brokerage


async def reset(request: web.Request) -> web.Response:
    try:
        await exchange_of(request).reset(await _body(request))
    except (msgspec.ValidationError, ValueError) as exc:
        raise AdminError(str(exc)) from None
    return reply({"reset": True})


async def get_config(request: web.Request) -> web.Response:
    return reply(msgspec.to_builtins(exchange_of(request).config))


async def post_config(request: web.Request) -> web.Response:
    brokerage = exchange_of(request)
    try:
        brokerage.reconfigure(await _body(request))
    except (msgspec.ValidationError, ValueError) as exc:
        raise AdminError(str(exc)) from None
    return reply(msgspec.to_builtins(brokerage.config))


async def get_faults(request: web.Request) -> web.Response:
    return reply(_account(request).faults.to_json())


async def post_fault(request: web.Request) -> web.Response:
    brokerage = _account(request)
    try:
        spec = msgspec.convert(await _body(request), FaultSpec)
    except (msgspec.ValidationError, ValueError) as exc:
        raise AdminError(str(exc)) from None
    fault = brokerage.faults.add(spec)
    if spec.kind == "market_closed":
        brokerage.exchange.set_market_open(False)
    elif spec.kind == "drop_stream":
        await brokerage.exchange.hub.close_all(brokerage.name)
    return reply(fault.to_json(), status=201)


async def delete_faults(request: web.Request) -> web.Response:
    _account(request).faults.clear()
    return web.Response(status=204)


def _clock(request: web.Request) -> web.Response:
    clock = exchange_of(request).clock
    return reply({**clock.to_json(), "session": clock.session})


async def get_clock(request: web.Request) -> web.Response:
    return _clock(request)


async def post_clock(request: web.Request) -> web.Response:
    brokerage = exchange_of(request)
    body = await _body(request)
    moments = {}
    for name in ("next_open", "next_close"):
        moments[name] = parse_instant(body[name]) if body.get(name) else None
        if body.get(name) and moments[name] is None:
            raise AdminError(f"{name} is not an RFC 3339 time")
    is_open, session = body.get("is_open"), body.get("session")
    if session is not None:
        if session not in SESSIONS:
            raise AdminError(f"session must be one of {', '.join(SESSIONS)}")
        brokerage.set_session(session)
    elif is_open is True:
        brokerage.set_market_open(True, next_close=moments["next_close"])
    elif is_open is False:
        brokerage.set_market_open(False, next_open=moments["next_open"])
    else:
        brokerage.clock.reschedule(next_open=moments["next_open"], next_close=moments["next_close"])
    return _clock(request)


async def get_prices(request: web.Request) -> web.Response:
    raw = request.query.get("symbols")
    symbols = [s.strip().upper() for s in raw.split(",") if s.strip()] if raw else None
    return reply(exchange_of(request).prices.snapshot(symbols))


async def post_prices(request: web.Request) -> web.Response:
    brokerage = exchange_of(request)
    body = await _body(request)
    symbol, price = str(body.get("symbol", "")).upper(), to_decimal(body.get("price"))
    if not symbol or price is None or price <= 0:
        raise AdminError('give "symbol" and a positive "price"')
    freeze = body.get("freeze")
    brokerage.prices.set_price(symbol, price, freeze=None if freeze is None else bool(freeze))
    brokerage.on_prices([symbol])  # a forced cross fills now, not at the next tick
    return reply(brokerage.prices.snapshot([symbol]))


async def get_orders(request: web.Request) -> web.Response:
    return reply([order.to_json() for order in _account(request).book.sequence])


async def get_executions(request: web.Request) -> web.Response:
    return reply([execution.to_json() for execution in _account(request).engine.executions])


async def get_requests(request: web.Request) -> web.Response:
    return reply(_account(request).traffic.to_json())


async def delete_requests(request: web.Request) -> web.Response:
    _account(request).traffic.clear()
    return web.Response(status=204)


async def get_stream(request: web.Request) -> web.Response:
    brokerage = _account(request)
    return reply({"listeners": brokerage.exchange.hub.listeners(brokerage.name)})


async def get_rate_limits(request: web.Request) -> web.Response:
    return reply(_account(request).rate_limits.to_json())


async def get_status(request: web.Request) -> web.Response:
    brokerage = _account(request)
    return reply(
        {
            "clock": brokerage.clock.to_json(),
            "orders": len(brokerage.book.sequence),
            "open_orders": len(brokerage.book.open_orders()),
            "executions": len(brokerage.engine.executions),
            "account": brokerage.name,
            "accounts": list(brokerage.exchange.accounts),
            "listeners": brokerage.exchange.hub.listeners(brokerage.name),
            "faults": brokerage.faults.to_json(),
            "rate_limits": brokerage.rate_limits.to_json(),
            "config": msgspec.to_builtins(brokerage.config),
        }
    )


async def get_accounts(request: web.Request) -> web.Response:
    exchange = exchange_of(request)
    return reply(
        [
            {
                "name": b.name,
                "key_id": b.spec.key_id,
                "account_number": b.account.account_number,
                "cash": str(b.account.cash),
            }
            for b in exchange.accounts.values()
        ]
    )


def add_routes(app: web.Application) -> None:
    route = app.router
    route.add_get("/admin/accounts", get_accounts)
    route.add_get("/admin/status", get_status)
    route.add_post("/admin/reset", reset)
    route.add_get("/admin/config", get_config)
    route.add_post("/admin/config", post_config)
    route.add_get("/admin/faults", get_faults)
    route.add_post("/admin/faults", post_fault)
    route.add_delete("/admin/faults", delete_faults)
    route.add_get("/admin/clock", get_clock)
    route.add_post("/admin/clock", post_clock)
    route.add_get("/admin/prices", get_prices)
    route.add_post("/admin/prices", post_prices)
    route.add_get("/admin/orders", get_orders)
    route.add_get("/admin/executions", get_executions)
    route.add_get("/admin/requests", get_requests)
    route.add_delete("/admin/requests", delete_requests)
    route.add_get("/admin/stream", get_stream)
    route.add_get("/admin/rate_limits", get_rate_limits)
