"""Alpaca's request rate limit: so many requests a minute per API key, the Trading API and the Market Data
API each their own budget; beyond it, 429 with Alpaca's body and `X-RateLimit-*` headers.

What Alpaca documents and shows: "the API is throttled, currently 200 requests per minute, per account" and
it answers "429 - Too Many Requests" beyond (alpaca.markets/support/usage-limit-api-calls); the Market Data
API's free plan has its own 200 a minute. Every Trading API response carries `X-Ratelimit-Limit: 200`,
`X-Ratelimit-Remaining: 195` and `X-Ratelimit-Reset: 1679411617`, the reset being "the next time (in
seconds epoch time) when the rate counter will reset" (Alpaca's answer on forum.alpaca.markets, "Executing
Orders", t/12029); the 429's body is `{"code":42910000,"message":"rate limit exceeded"}` (errors.py).

The emulator's model of the counter (Alpaca does not document its algorithm): a fixed window per API key
and API that opens, on a whole second, with the first request after the last window closed, and lasts
`window_s`; `X-RateLimit-Reset` is when it closes. Every request with the right key counts, whatever its
answer (a fault's too: it reached the gateway). A limit of 0 turns the API's limit off (no headers then).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Lane = Literal["trading", "data"]
LANES: tuple[Lane, ...] = ("trading", "data")


def lane_of(path: str) -> Lane:
    """Which API a path (without the /paper prefix) belongs to: /v2/stocks/… is Market Data."""
    return "data" if path.startswith("/v2/stocks/") else "trading"


@dataclass
class Window:
    opened_at: int  # epoch seconds
    used: int = 0


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }


class RateLimits:
    """The request counters of every API key, per API; `limits()` gives (per-minute limit, window_s) now."""

    def __init__(self, limits: Callable[[Lane], tuple[int, int]], clock: Callable[[], float] = time.time):
        self._limits = limits
        self._clock = clock
        self._windows: dict[tuple[Lane, str], Window] = {}
        self.refused = 0

    def admit(self, lane: Lane, key: str) -> Verdict | None:
        """Count one request of `key` on `lane`; None when that API has no limit."""
        limit, window_s = self._limits(lane)
        if limit <= 0:
            return None
        now = self._clock()
        window = self._windows.get((lane, key))
        if window is None or now >= window.opened_at + window_s:
            window = self._windows[(lane, key)] = Window(opened_at=math.floor(now))
        reset_at = window.opened_at + window_s
        if window.used >= limit:
            self.refused += 1
            return Verdict(False, limit, 0, reset_at)
        window.used += 1
        return Verdict(True, limit, limit - window.used, reset_at)

    def to_json(self) -> dict[str, object]:
        now = self._clock()
        lanes: dict[str, object] = {}
        for lane in LANES:
            limit, window_s = self._limits(lane)
            keys = {}
            for (of_lane, key), window in self._windows.items():
                if of_lane != lane or now >= window.opened_at + window_s:
                    continue
                keys[key] = {
                    "used": window.used,
                    "remaining": max(0, limit - window.used),
                    "reset_at": window.opened_at + window_s,
                }
            lanes[lane] = {"limit_per_window": limit, "window_s": window_s, "keys": keys}
        return {**lanes, "refused": self.refused}
