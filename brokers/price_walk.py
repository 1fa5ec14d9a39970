"""A seeded, per-symbol random walk of reference prices for the simulated stock broker."""

from __future__ import annotations

import hashlib
import random
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")

# Where a walk starts for well-known symbols: realistic, fixed, so a demo looks like a market.
STARTING_PRICES: dict[str, Decimal] = {
    "AAPL": Decimal("190.00"),
    "MSFT": Decimal("420.00"),
    "GOOGL": Decimal("170.00"),
    "GOOG": Decimal("172.00"),
    "AMZN": Decimal("185.00"),
    "TSLA": Decimal("245.00"),
    "NVDA": Decimal("125.00"),
    "META": Decimal("500.00"),
    "NFLX": Decimal("650.00"),
    "AMD": Decimal("160.00"),
    "INTC": Decimal("31.00"),
    "JPM": Decimal("200.00"),
    "BAC": Decimal("39.00"),
    "V": Decimal("275.00"),
    "WMT": Decimal("68.00"),
    "DIS": Decimal("95.00"),
    "KO": Decimal("62.00"),
    "BRK.B": Decimal("410.00"),
    "SPY": Decimal("550.00"),
    "QQQ": Decimal("470.00"),
    "IWM": Decimal("210.00"),
    "DIA": Decimal("400.00"),
}

# Standard deviation of one step, as a fraction of the price (0.1 %).
STEP_VOLATILITY = Decimal("0.001")
# A step never moves more than this many standard deviations: keeps a long walk sane.
MAX_STEP_SIGMAS = 4.0
# The walk never falls below $1.00, so a 1 bp band always holds a 0.0001 price tick.
MINIMUM_PRICE = Decimal("1.00")


def stable_hash(text: str) -> int:
    """Hash `text` to a 64-bit integer that is the same in every process (unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def starting_price(symbol: str) -> Decimal:
    """The price a symbol's walk starts at: from the table, else $10.00–$500.00 by the symbol's hash."""
    known = STARTING_PRICES.get(symbol)
    if known is not None:
        return known
    cents = 1_000 + stable_hash(symbol) % 49_001
    return Decimal(cents) * CENT


class PriceWalk:
    """Reference prices that move by a small Gaussian step each time they are drawn.

    Each symbol has its own `random.Random(seed ^ stable_hash(symbol))`, so one symbol's sequence does not
    depend on how calls for other symbols interleave with it. Prices are Decimal, quantized to cents.
    No method awaits, so one event loop can share a walk without locks.
    """

    def __init__(self, *, seed: int = 42) -> None:
        self.seed = seed
        self._prices: dict[str, Decimal] = {}
        self._rngs: dict[str, random.Random] = {}

    def current(self, symbol: str) -> Decimal:
        """Return the symbol's reference price without moving it."""
        price = self._prices.get(symbol)
        if price is None:
            price = self._prices[symbol] = starting_price(symbol)
            self._rngs[symbol] = random.Random(self.seed ^ stable_hash(symbol))
        return price

    def step(self, symbol: str) -> Decimal:
        """Move the symbol's price by one step and return the new reference price."""
        price = self.current(symbol)
        sigmas = max(-MAX_STEP_SIGMAS, min(MAX_STEP_SIGMAS, self._rngs[symbol].gauss(0.0, 1.0)))
        # The float draw becomes an exact Decimal at a fixed precision before it touches money.
        move = Decimal(repr(round(sigmas, 6))) * STEP_VOLATILITY
        price = max(MINIMUM_PRICE, (price * (1 + move)).quantize(CENT, rounding=ROUND_HALF_EVEN))
        self._prices[symbol] = price
        return price
