"""Market Data API v2 routes: latest quotes and trades, multi-symbol (what alpaca-py's
StockHistoricalDataClient calls: /v2/stocks/quotes/latest?symbols=…, /v2/stocks/trades/latest) and
the single-symbol forms /v2/stocks/{symbol}/quotes/latest and …/trades/latest.

Quotes and trades come from the same price paths the orders fill against, so a client's reference
quote agrees with its fills. Symbols outside the asset catalog are left out of the answer, as Alpaca
leaves out symbols it has no data for.
"""

from __future__ import annotations

from aiohttp import web

from emulators.alpaca import errors
from emulators.alpaca.brokerage import Brokerage
from emulators.alpaca.replies import brokerage_of, reply


def _symbols(request: web.Request) -> list[str]:
    raw = request.query.get("symbols", "")
    symbols = [s.strip().upper() for s in raw.split(",") if s.strip()]
    if not symbols:
        raise errors.invalid_parameter("symbols is required")  # (emulator wording)
    return symbols


def _known(brokerage: Brokerage, symbols: list[str]) -> list[str]:
    return [s for s in symbols if brokerage.assets.find(s) is not None]


async def latest_quotes(request: web.Request) -> web.Response:
    brokerage = brokerage_of(request)
    symbols = _known(brokerage, _symbols(request))
    return reply({"quotes": {s: brokerage.prices.quote(s).to_json() for s in symbols}})


async def latest_trades(request: web.Request) -> web.Response:
    brokerage = brokerage_of(request)
    symbols = _known(brokerage, _symbols(request))
    return reply({"trades": {s: brokerage.prices.last_trade(s).to_json() for s in symbols}})


async def latest_quote(request: web.Request) -> web.Response:
    brokerage = brokerage_of(request)
    symbol = request.match_info["symbol"].upper()
    if brokerage.assets.find(symbol) is None:
        raise errors.invalid_parameter(f"invalid symbol: {symbol}")  # (emulator wording)
    return reply({"symbol": symbol, "quote": brokerage.prices.quote(symbol).to_json()})


async def latest_trade(request: web.Request) -> web.Response:
    brokerage = brokerage_of(request)
    symbol = request.match_info["symbol"].upper()
    if brokerage.assets.find(symbol) is None:
        raise errors.invalid_parameter(f"invalid symbol: {symbol}")  # (emulator wording)
    return reply({"symbol": symbol, "trade": brokerage.prices.last_trade(symbol).to_json()})


def add_routes(app: web.Application, prefix: str) -> None:
    app.router.add_get(f"{prefix}/v2/stocks/quotes/latest", latest_quotes)
    app.router.add_get(f"{prefix}/v2/stocks/trades/latest", latest_trades)
    app.router.add_get(f"{prefix}/v2/stocks/{{symbol}}/quotes/latest", latest_quote)
    app.router.add_get(f"{prefix}/v2/stocks/{{symbol}}/trades/latest", latest_trade)
