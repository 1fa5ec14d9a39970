"""What a trade needs to know from Alpaca before its order, each from what Alpaca already said when that is
recent enough (alpaca_views.py), else one request: tradability, the clock, buying power, a quote.

A read the account's budget holds back (RateLimited) never fails a pre-trade check: the last answer is
used however old, and only a fact never read at all is missing. The account's number is checked by the
paper guard on every read of the account.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass, AssetStatus
from alpaca.trading.requests import GetAssetsRequest

from brokers.alpaca_client import AlpacaCalls
from brokers.alpaca_mapping import decimal_of
from brokers.alpaca_sessions import CalendarView
from brokers.alpaca_views import AccountView, AssetBook, ClockView, Quote, QuoteBook
from brokers.paper_guard import PaperGuard
from brokers.port import BrokerUnavailable, MarketConditions, RateLimited
from messages.trade import TradeRequest

logger = logging.getLogger("tradeflow.alpaca.reads")

# The execution's reference quote: one read since the trade was submitted (the quote its validation took),
# or one at most this old.
EXECUTION_QUOTE_AGE_S = 2.0
STALE_QUOTE_AGE_S = 600.0  # while the data budget is spent, a quote this old still serves a check


class AlpacaReads:
    def __init__(
        self,
        trading: TradingClient,
        data: StockHistoricalDataClient,
        calls: AlpacaCalls,
        guard: PaperGuard,
        quotes: QuoteBook,
        *,
        account_max_age_s: float,
        quote_max_age_s: float,
    ) -> None:
        self.trading, self.data, self.calls, self.guard, self.quotes = trading, data, calls, guard, quotes
        self.quote_max_age_s = quote_max_age_s
        self.clock = ClockView(lambda: self.calls.read(self.trading.get_clock, by=self.reads_by()))
        self.calendar = CalendarView(self._calendar_day)
        self.assets = AssetBook(self._all_assets, self._asset_or_none)
        self.account = AccountView(self._checked_account, max_age_s=account_max_age_s)

    def reads_by(self) -> float:
        # A read outside an attempt (validation's checks, a notice's price): a few requests' worth.
        return time.monotonic() + 3 * self.calls.request_timeout_s

    async def _checked_account(self) -> Any:
        account = await self.calls.read(self.trading.get_account, by=self.reads_by())
        self.guard.check_account(account.account_number)  # PaperGuardFailed: no order may leave
        return account

    async def account_positions(self) -> dict[str, Decimal]:
        """The account's positions at Alpaca (`GET /v2/positions`): signed shares per symbol."""
        positions = await self.calls.read(self.trading.get_all_positions, by=self.reads_by())
        return {str(p.symbol): decimal_of(p.qty) for p in positions}

    async def _calendar_day(self, day: date) -> Any:
        """The raw calendar entry of one day (alpaca-py's model drops the extended sessions' fields)."""
        query = {"start": day.isoformat(), "end": day.isoformat()}
        return await self.calls.read(self.trading.get, "/calendar", query, by=self.reads_by())

    async def _extended_session(self, clock: Any) -> Any:
        """The pre-market or after-hours session while the regular one is closed; a calendar Alpaca cannot
        give now (its budget spent, an error) leaves it unknown, and the trade is judged as if closed."""
        if clock is None or clock.is_open:
            return None
        try:
            return await self.calendar.extended_session(datetime.now(UTC))
        except (RateLimited, BrokerUnavailable, APIError) as exc:
            logger.warning("Alpaca's calendar could not be read (%s): judged as outside any session", exc)
            return None

    async def _all_assets(self) -> list[Any]:
        listing = GetAssetsRequest(status=AssetStatus.ACTIVE, asset_class=AssetClass.US_EQUITY)
        assets: list[Any] = await self.calls.read(self.trading.get_all_assets, listing, by=self.reads_by())
        return assets

    async def _asset_or_none(self, symbol: str) -> Any:
        try:
            return await self.calls.read(self.trading.get_asset, symbol, by=self.reads_by())
        except APIError as exc:
            if exc.status_code == 404:  # Alpaca does not know the symbol: not tradable
                return None
            raise

    async def conditions(self, symbol: str, *, source: str) -> MarketConditions:
        asset, clock, _ = await asyncio.gather(
            self.assets.find(symbol),
            _fresh_or_last(self.clock.current, lambda: self.clock.last),
            _fresh_or_last(self.account.current, lambda: self.account.last),
        )
        extended_session = await self._extended_session(clock)
        return MarketConditions(
            tradable=bool(asset and asset.tradable),
            listed=asset is not None,
            fractionable=bool(asset and asset.fractionable),
            shortable=bool(asset and asset.shortable),
            market_open=bool(clock.is_open),
            extended_session=extended_session,
            next_open=clock.next_open,
            buying_power=self.account.buying_power(),
            equity=self.account.figure("equity"),
            last_equity=self.account.figure("last_equity"),
            source=source,
        )

    async def quote(
        self, symbol: str, *, max_age_s: float, since: float | None = None, by: float | None = None
    ) -> Decimal | None:
        """The symbol's mid price from a quote at most `max_age_s` old (or, given `since`, one read since
        then and at most `quote_max_age_s` old), read from Alpaca when there is none."""
        known = self.quotes.get(symbol, max(max_age_s, self.quote_max_age_s if since is not None else 0))
        if known is not None and (
            time.time() - known.at <= max_age_s or (since is not None and known.at >= since)
        ):
            return known.mid
        quotes = await self.calls.read(
            self.data.get_stock_latest_quote,
            StockLatestQuoteRequest(symbol_or_symbols=symbol),
            by=by or self.reads_by(),
        )
        read = quotes.get(symbol)
        if read is None:  # Alpaca leaves out a symbol it has no quote for (one it does not list, say)
            return None
        quote = Quote(bid=decimal_of(read.bid_price), ask=decimal_of(read.ask_price), at=time.time())
        self.quotes.put(symbol, quote)
        return quote.mid

    def settled_reference(self, trade: TradeRequest, order: Any) -> Decimal:
        """A settled order's reference price, without a request: a recent quote, else its limit, else its
        own average price (no slippage is claimed then)."""
        quote = self.quotes.get(trade.symbol, self.quote_max_age_s)
        known = quote.mid if quote is not None else None
        return known or trade.limit_price or decimal_of(order.filled_avg_price)

    async def display_price(self, symbol: str) -> Decimal | None:
        """A price to show (the App Home's "Last"): any quote read in the last STALE_QUOTE_AGE_S, else one
        read now. Showing a position costs no request while its symbol trades."""
        known = self.quotes.get(symbol, STALE_QUOTE_AGE_S)
        return known.mid if known is not None else await self.reference_price(symbol)

    async def reference_price(self, symbol: str) -> Decimal | None:
        """A price for checks and displays: a quote up to `quote_max_age_s` old, or an older one while the
        data budget is spent."""
        try:
            return await self.quote(symbol, max_age_s=self.quote_max_age_s)
        except RateLimited:
            stale = self.quotes.get(symbol, STALE_QUOTE_AGE_S)
            if stale is None:
                raise
            return stale.mid


async def _fresh_or_last(read: Callable[[], Awaitable[Any]], last: Callable[[], Any]) -> Any:
    """A fact read now; while the account's budget is spent, the last one read (if any)."""
    try:
        return await read()
    except RateLimited:
        if last() is None:
            raise
        logger.info("Alpaca's budget is spent: a pre-trade check uses the last answer it had")
        return last()
