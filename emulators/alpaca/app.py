"""The aiohttp application: every API route at /… and at /paper/…, credentials, faults, and logging.

Serving the same routes under /paper lets a client use `http://127.0.0.1:PORT/paper` as its
ALPACA_PAPER_BASE_URL, which passes tradeflow's paper guard ("base URL contains paper") without
weakening it; alpaca-py builds `url_override + "/v2" + path`, so the prefix simply rides along.
The Market Data routes (/v2/stocks/…) are on the same server: the data base URL is the bare origin.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from emulators.alpaca import admin, data_api, errors, trading_api
from emulators.alpaca.brokerage import Brokerage
from emulators.alpaca.exchange import Exchange
from emulators.alpaca.faults import ORDER_KINDS, Fault
from emulators.alpaca.formats import now_ns
from emulators.alpaca.rate_limit import Verdict, lane_of
from emulators.alpaca.replies import ACCOUNT, EXCHANGE, ORDER_FAULT
from emulators.alpaca.validation import OrderTicket, read_ticket

PAPER_PREFIX = "/paper"
STREAM_PATH = "/stream"


def _api_path(path: str) -> str:
    return path[len(PAPER_PREFIX) :] if path.startswith(PAPER_PREFIX + "/") else path


def _check_credentials(request: web.Request, path: str) -> None:
    if ACCOUNT in request:
        return
    key = request.headers.get("APCA-API-KEY-ID")
    secret = request.headers.get("APCA-API-SECRET-KEY")
    if path.startswith("/v2/stocks/") or not key or not secret:
        raise errors.forbidden()
    raise errors.request_not_authorized()


async def _answer(request: web.Request, handler: Handler, path: str) -> web.StreamResponse:
    """The response the API itself would give: the handler's, or Alpaca's refusal."""
    try:
        _check_credentials(request, path)
        response = await handler(request)
    except errors.AlpacaError as refusal:
        return refusal.response()
    except web.HTTPNotFound:
        return errors.coded(404, 40410000, "endpoint not found").response()  # (emulator wording)
    except web.HTTPMethodNotAllowed:
        return errors.coded(405, 40510000, "method not allowed").response()  # (emulator wording)
    response.headers.setdefault("X-Request-ID", uuid.uuid4().hex)
    return response


def _client_order_id(request: web.Request, body: bytes) -> str | None:
    """The client order id an order request or a lookup names, if any (for resends and the traffic log)."""
    if request.method == "GET":
        return request.query.get("client_order_id")
    if request.method != "POST" or not body:
        return None
    try:
        ticket = json.loads(body)
    except ValueError:
        return None
    named = ticket.get("client_order_id") if isinstance(ticket, dict) else None
    return named if isinstance(named, str) else None


async def _accept_then_504(
    request: web.Request, handler: Handler, path: str, fault: Fault, client_order_id: str | None
) -> web.StreamResponse:
    if client_order_id is not None and client_order_id in fault.accepted:
        return (await _refuse_resend(request, fault)).response()  # refused before it is processed
    accepted = await _answer(request, handler, path)  # the order takes effect; its answer is lost
    if accepted.status == 200 and client_order_id is not None:
        fault.accepted.add(client_order_id)
    await asyncio.sleep(fault.spec.answer_after_s)
    return errors.server_error(504).response()


async def _refuse_resend(request: web.Request, fault: Fault) -> errors.AlpacaError:
    status = fault.spec.resend_status
    if status == 429:
        return errors.rate_limited(fault.spec.retry_after_s)
    if status == 401:
        return errors.request_not_authorized()
    if status == 403:
        try:
            ticket: OrderTicket | None = read_ticket(await request.json())
        except (ValueError, errors.AlpacaError):
            ticket = None
        return (request.get(ACCOUNT) or request.app[EXCHANGE].first).buying_power_refusal(ticket)
    return errors.duplicate_client_order_id()


async def _with_fault(
    request: web.Request, handler: Handler, path: str, fault: Fault | None, client_order_id: str | None
) -> web.StreamResponse | None:
    """Answer the request through the fault; None means the connection was dropped."""
    if fault is None or fault.kind in ORDER_KINDS:
        return await _answer(request, handler, path)
    if fault.kind == "accept_then_504":
        return await _accept_then_504(request, handler, path, fault, client_order_id)
    spec = fault.spec
    if fault.kind == "slow":
        if fault.phase == "before":
            await asyncio.sleep(spec.delay_s)
        response = await _answer(request, handler, path)
        if fault.phase == "after":
            await asyncio.sleep(spec.delay_s)
        return response
    if fault.phase == "after":
        await _answer(request, handler, path)  # the request takes effect; its answer is lost
    if fault.kind == "drop_connection":
        if request.transport is not None:
            request.transport.abort()
        return None
    await asyncio.sleep(spec.answer_after_s)
    if spec.status == 429:
        return errors.rate_limited(spec.retry_after_s).response()
    return errors.server_error(spec.status).response()


def _rate_verdict(request: web.Request, path: str) -> Verdict | None:
    """Count the request against its account's budget (only a key pair the API knows: others are
    refused)."""
    brokerage = request.get(ACCOUNT)
    if brokerage is None:
        return None
    return brokerage.rate_limits.admit(lane_of(path), brokerage.spec.key_id)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = _api_path(request.path)
    if path.startswith("/admin") or path == STREAM_PATH:
        return await handler(request)
    exchange = request.app[EXCHANGE]
    authenticated = exchange.authenticate(
        request.headers.get("APCA-API-KEY-ID"), request.headers.get("APCA-API-SECRET-KEY")
    )
    if authenticated is not None:
        request[ACCOUNT] = authenticated
    # A request no account's keys sign is refused; it is still logged, in the default account's log.
    brokerage: Brokerage = authenticated or exchange.first
    received_ns = now_ns()
    # kept by aiohttp: a slow request is still processed if the client leaves
    body = await request.read() if request.can_read_body else b""
    client_order_id = _client_order_id(request, body)
    verdict = _rate_verdict(request, path)
    fault: Fault | None = None
    response: web.StreamResponse | None
    if verdict is not None and not verdict.admitted:
        retry_after = max(1, verdict.reset_at - int(time.time()))
        response = errors.rate_limit_exceeded(verdict.headers(), retry_after).response()
        fault_kind: str | None = "rate_limit"
    else:
        fault = brokerage.faults.take(request.method, path, client_order_id)
        if fault is not None and fault.kind in ORDER_KINDS:
            request[ORDER_FAULT] = fault
        response = await _with_fault(request, handler, path, fault, client_order_id)
        fault_kind = fault.kind if fault else None
        if response is not None and verdict is not None and not response.prepared:
            for name, value in verdict.headers().items():  # a fault's own 429 keeps its headers
                response.headers.setdefault(name, value)
    resource = request.match_info.route.resource
    route = _api_path(resource.canonical) if resource is not None else path
    status: int | str = response.status if response is not None else "dropped"
    brokerage.traffic.record(
        request.method,
        path,
        route,
        status,
        fault_kind,
        client_order_id=client_order_id,
        received_ns=received_ns,
    )
    return response if response is not None else web.Response(status=500)  # never reaches the client


def create_app(exchange: Exchange) -> web.Application:
    app = web.Application(middlewares=[api_middleware])
    app[EXCHANGE] = exchange
    for prefix in ("", PAPER_PREFIX):
        trading_api.add_routes(app, prefix)
        data_api.add_routes(app, prefix)
        app.router.add_get(prefix + STREAM_PATH, exchange.hub.handle)
    admin.add_routes(app)

    async def start(_: web.Application) -> None:
        exchange.start()

    async def stop(_: web.Application) -> None:
        await exchange.stop()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    return app
