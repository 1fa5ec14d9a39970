"""What Alpaca already told us, kept so that a trade costs one Alpaca request in steady state.

- The clock: trusted until the next open or close it announced (Alpaca's schedule is its answer; an
  early close is in its `next_close`). Each process keeps its own.
- Assets: the whole list, read in one request and again a day later; a symbol it lacks is asked alone.
- The account: re-read when older than `max_age_s` (its number is checked by the paper guard on every
  read), and moved between reads by the fills the `trade_updates` stream reports.
- Quotes: shared by every process (the shared state), so the quote validation took serves the execution
  that follows, in whichever process it runs; each reader says how old a quote it accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from brokers.shared_state import SharedState, SharedStateUnavailable

ASSET_TTL_S = 86_400.0
UNKNOWN_ASSET_TTL_S = 600.0  # a symbol Alpaca does not know is asked again after this
QUOTE_KEEP_MS = 600_000


class ClockView:
    """The market clock as Alpaca last told it, trusted until the open or close it announced next."""

    def __init__(self, fetch: Callable[[], Awaitable[Any]]) -> None:
        self._fetch = fetch
        self._clock: Any = None
        self._lock = asyncio.Lock()

    def _fresh(self, now: datetime) -> bool:
        clock = self._clock
        if clock is None:
            return False
        turn = clock.next_close if clock.is_open else clock.next_open
        return turn is None or now < _aware(turn)

    @property
    def last(self) -> Any:
        return self._clock

    async def current(self) -> Any:
        """alpaca-py's Clock: is_open, next_open, next_close."""
        if self._fresh(datetime.now(UTC)):
            return self._clock
        async with self._lock:
            if not self._fresh(datetime.now(UTC)):
                self._clock = await self._fetch()
            return self._clock


class AssetBook:
    """Every asset as Alpaca last listed them (one request, again after a day), and each symbol the list
    lacked as Alpaca answered when asked alone (None: it does not know the symbol), asked again later."""

    def __init__(
        self, fetch_all: Callable[[], Awaitable[list[Any]]], fetch_one: Callable[[str], Awaitable[Any]]
    ) -> None:
        self._fetch_all = fetch_all
        self._fetch_one = fetch_one  # the asset, or None for Alpaca's 404
        self._listed: dict[str, Any] = {}
        self._listed_until = 0.0
        self._asked: dict[str, tuple[Any, float]] = {}
        self._lock = asyncio.Lock()

    async def find(self, symbol: str) -> Any:
        if time.monotonic() >= self._listed_until:
            async with self._lock:
                if time.monotonic() >= self._listed_until:
                    assets = await self._fetch_all()
                    self._listed = {str(asset.symbol): asset for asset in assets}
                    self._listed_until = time.monotonic() + ASSET_TTL_S
        if symbol in self._listed:
            return self._listed[symbol]
        asked = self._asked.get(symbol)
        if asked is not None and time.monotonic() < asked[1]:
            return asked[0]
        asset = await self._fetch_one(symbol)
        keep = ASSET_TTL_S if asset is not None else UNKNOWN_ASSET_TTL_S
        self._asked[symbol] = (asset, time.monotonic() + keep)
        return asset


class AccountView:
    """Alpaca's account, re-read when older than `max_age_s`; between reads, buying power moves with each
    fill the stream reports (a buy spends its cost, a sell frees its proceeds: Alpaca's own figure is read
    at the next refresh, and Alpaca itself refuses an order it cannot cover)."""

    def __init__(self, fetch: Callable[[], Awaitable[Any]], *, max_age_s: float) -> None:
        self._fetch = fetch  # checks the paper guard on what it read
        self.max_age_s = max_age_s
        self._account: Any = None
        self._read_at = 0.0
        self._moved = Decimal(0)  # buying power spent (-) or freed (+) by fills since the read
        self._lock = asyncio.Lock()

    @property
    def last(self) -> Any:
        return self._account

    @property
    def age_s(self) -> float:
        return time.monotonic() - self._read_at if self._account is not None else float("inf")

    async def current(self) -> Any:
        if self.age_s < self.max_age_s:
            return self._account
        return await self.refresh(min_age_s=self.max_age_s)

    async def refresh(self, *, min_age_s: float = 0.0) -> Any:
        """Read the account again unless it was read less than `min_age_s` ago."""
        async with self._lock:
            if self._account is None or self.age_s >= min_age_s:
                account = await self._fetch()
                self._account, self._read_at, self._moved = account, time.monotonic(), Decimal(0)
            return self._account

    def buying_power(self) -> Decimal | None:
        if self._account is None:
            return None
        return _decimal(self._account.buying_power) + self._moved

    def figure(self, name: str) -> Decimal | None:
        """One of the account's figures as last read (equity, last_equity), or None."""
        value = getattr(self._account, name, None) if self._account is not None else None
        return None if value is None else _decimal(value)

    def on_fill(self, side: str, quantity: Decimal, price: Decimal) -> None:
        """A fill reported by the stream (any thread)."""
        cost = quantity * price
        self._moved += -cost if side == "buy" else cost


@dataclass(frozen=True)
class Quote:
    bid: Decimal
    ask: Decimal
    at: float  # time.time() when it was read from Alpaca

    @property
    def mid(self) -> Decimal | None:
        if self.bid > 0 and self.ask > 0:
            return ((self.bid + self.ask) / 2).quantize(Decimal("0.0001"))
        return self.ask or self.bid or None


QUOTES_KEY = "tradeflow:alpaca-quotes"  # and the market data's URL: where a QuoteBook's quotes are kept


class QuoteBook:
    """The last quote read for each symbol, shared by every process that quotes for the account."""

    def __init__(self, state: SharedState, namespace: str) -> None:
        self.state = state
        self.namespace = namespace

    def _key(self, symbol: str) -> str:
        return f"{self.namespace}:quote:{symbol}"

    def get(self, symbol: str, max_age_s: float) -> Quote | None:
        """The symbol's quote if one no older than `max_age_s` is known (a shared state away: none)."""
        try:
            text = self.state.get(self._key(symbol))
        except SharedStateUnavailable:
            return None
        if text is None:
            return None
        data = json.loads(text)
        quote = Quote(bid=Decimal(data["bid"]), ask=Decimal(data["ask"]), at=float(data["at"]))
        return quote if time.time() - quote.at <= max_age_s else None

    def put(self, symbol: str, quote: Quote) -> None:
        text = json.dumps({"bid": str(quote.bid), "ask": str(quote.ask), "at": quote.at})
        with contextlib.suppress(SharedStateUnavailable):  # else the next reader asks Alpaca itself
            self.state.put(self._key(symbol), text, QUOTE_KEEP_MS)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _decimal(value: object) -> Decimal:
    return Decimal(0) if value in (None, "") else Decimal(str(value))
