"""Seeded price paths per symbol: a random walk quoted with a bid/ask spread, and a last trade.

Each symbol walks with its own `random.Random(seed ^ hash(symbol))`, so one symbol's path does not
depend on which other symbols were asked for. The mid price moves by a Gaussian step of `step_bps`
basis points each tick; the quote is the mid ± half the spread, bid rounded down and ask up to the
cent; the last trade prints at the mid, rounded to the cent, so bid ≤ trade ≤ ask always holds.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

from emulators.alpaca.formats import CENT, decimal_text, now_ns, rfc3339_ns

# Where a walk starts for the symbols tradeflow allows by default: realistic levels for a demo.
STARTING_PRICES: dict[str, Decimal] = {
    symbol: Decimal(price)
    for symbol, price in {
        "AAPL": "190.00", "MSFT": "420.00", "GOOGL": "170.00", "GOOG": "172.00", "AMZN": "185.00",
        "META": "500.00", "NVDA": "125.00", "TSLA": "245.00", "AMD": "160.00", "INTC": "31.00",
        "NFLX": "650.00", "ORCL": "140.00", "CRM": "270.00", "ADBE": "520.00", "IBM": "190.00",
        "JPM": "200.00", "BAC": "39.00", "GS": "470.00", "V": "275.00", "MA": "460.00",
        "WMT": "68.00", "KO": "62.00", "PEP": "170.00", "DIS": "95.00", "XOM": "115.00",
        "CVX": "155.00", "SPY": "550.00", "QQQ": "470.00", "IWM": "210.00", "DIA": "400.00",
        "BRK.B": "410.00",
    }.items()
}  # fmt: skip
MINIMUM_PRICE = Decimal("1.00")
MAX_STEP_SIGMAS = 4.0
BASIS_POINT = Decimal("0.0001")


def stable_hash(text: str) -> int:
    """A 64-bit hash that is the same in every process (unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def starting_price(symbol: str) -> Decimal:
    known = STARTING_PRICES.get(symbol)
    return known if known is not None else Decimal(1_000 + stable_hash(symbol) % 49_001) * CENT


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: int
    ask_size: int
    at_ns: int

    def to_json(self) -> dict[str, Any]:
        """Alpaca's latest-quote object (the keys alpaca-py's QUOTE_MAPPING reads)."""
        return {
            "ap": float(self.ask),
            "as": self.ask_size,
            "ax": "V",
            "bp": float(self.bid),
            "bs": self.bid_size,
            "bx": "V",
            "c": ["R"],
            "t": rfc3339_ns(self.at_ns),
            "z": "C",
        }


@dataclass(frozen=True)
class LastTrade:
    symbol: str
    price: Decimal
    size: int
    trade_id: int
    at_ns: int

    def to_json(self) -> dict[str, Any]:
        """Alpaca's latest-trade object (the keys alpaca-py's TRADE_MAPPING reads)."""
        return {
            "c": ["@"],
            "i": self.trade_id,
            "p": float(self.price),
            "s": self.size,
            "t": rfc3339_ns(self.at_ns),
            "x": "V",
            "z": "C",
        }


@dataclass
class _Path:
    mid: Decimal
    rng: random.Random
    opening_price: Decimal
    frozen: bool = False
    ticks: int = 0
    at_ns: int = 0


class PriceBook:
    def __init__(self, *, seed: int, step_bps: Decimal, spread_bps: Decimal) -> None:
        self.seed = seed
        self._paths: dict[str, _Path] = {}
        self.configure(step_bps=step_bps, spread_bps=spread_bps)

    def configure(self, *, step_bps: Decimal, spread_bps: Decimal) -> None:
        self.step_size = step_bps * BASIS_POINT
        self.half_spread = spread_bps * BASIS_POINT / 2

    def _path(self, symbol: str) -> _Path:
        path = self._paths.get(symbol)
        if path is None:
            price = starting_price(symbol)
            rng = random.Random(self.seed ^ stable_hash(symbol))
            path = self._paths[symbol] = _Path(mid=price, rng=rng, opening_price=price, at_ns=now_ns())
        return path

    def quote(self, symbol: str) -> Quote:
        path = self._path(symbol)
        half = max(path.mid * self.half_spread, Decimal("0.005"))
        bid = (path.mid - half).quantize(CENT, rounding=ROUND_FLOOR)
        ask = (path.mid + half).quantize(CENT, rounding=ROUND_CEILING)
        if ask <= bid:
            ask = bid + CENT
        sizes = stable_hash(f"{symbol}:{path.ticks}")
        return Quote(symbol, bid, ask, 100 * (1 + sizes % 9), 100 * (1 + (sizes >> 8) % 9), path.at_ns)

    def last_trade(self, symbol: str) -> LastTrade:
        path = self._path(symbol)
        price = path.mid.quantize(CENT, rounding=ROUND_HALF_EVEN)
        size = 1 + stable_hash(f"{symbol}#{path.ticks}") % 300
        return LastTrade(symbol, price, size, 1_000_000 + path.ticks, path.at_ns)

    def mark(self, symbol: str) -> Decimal:
        """The price a position is valued at: the last trade."""
        return self.last_trade(symbol).price

    def opening_price(self, symbol: str) -> Decimal:
        """Where the symbol's walk started: the emulator's "previous close" (lastday_price)."""
        return self._path(symbol).opening_price

    def step(self) -> list[str]:
        """Move every walked, unfrozen symbol one step; return the symbols that moved."""
        moved = []
        at = now_ns()
        for symbol, path in self._paths.items():
            if path.frozen:
                continue
            sigmas = max(-MAX_STEP_SIGMAS, min(MAX_STEP_SIGMAS, path.rng.gauss(0.0, 1.0)))
            move = Decimal(repr(round(sigmas, 6))) * self.step_size
            path.mid = max(MINIMUM_PRICE, (path.mid * (1 + move)).quantize(Decimal("0.0001")))
            path.ticks += 1
            path.at_ns = at
            moved.append(symbol)
        return moved

    def set_price(self, symbol: str, price: Decimal, *, freeze: bool | None = None) -> None:
        """Put the symbol's mid price at `price` (to force a cross); `freeze` stops or resumes its walk."""
        path = self._path(symbol)
        path.mid = max(MINIMUM_PRICE, price)
        path.ticks += 1
        path.at_ns = now_ns()
        if freeze is not None:
            path.frozen = freeze

    def snapshot(self, symbols: list[str] | None = None) -> dict[str, Any]:
        names = symbols if symbols is not None else sorted(self._paths)
        result = {}
        for symbol in names:
            quote, trade = self.quote(symbol), self.last_trade(symbol)
            result[symbol] = {
                "mid": decimal_text(self._path(symbol).mid),
                "bid": decimal_text(quote.bid),
                "ask": decimal_text(quote.ask),
                "last": decimal_text(trade.price),
                "frozen": self._path(symbol).frozen,
            }
        return result
