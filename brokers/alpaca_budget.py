"""One Alpaca account's request budget, shared by every process that sends for it.

Alpaca allows an account 200 requests a minute on its Trading API and, apart, on its Market Data API, and
answers 429 beyond (DESIGN §9). Each API is a lane here: a dramatiq WindowRateLimiter keyed by the account
(its API key) over the shared state's backend, Redis in a deployment, so every process on every host
counts in the same window and all of them together stay under the limit. A request leaves only with a slot
of its lane (the transport takes it: brokers/alpaca_client.py). An answer 429, or `X-RateLimit-Remaining:
0`, pauses the lane for every sender until `X-RateLimit-Reset`.

A request the budget refuses never left (RateLimitWait). A trade that must wait is told how long by
`admission`: when the window frees the slot its place in the account's line of waiting trades (a ticket
taken on its first wait) comes to, so waiting trades come back as slots free instead of all at once.
When the shared state cannot be reached, nothing is counted, so nothing leaves (fail closed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import redis
import requests
from dramatiq.rate_limits import WindowRateLimiter

from brokers.shared_state import SharedState, SharedStateUnavailable

logger = logging.getLogger("tradeflow.alpaca.budget")

Lane = Literal["trading", "data"]
LANES: tuple[Lane, ...] = ("trading", "data")
ALPACA_REQUESTS_PER_MINUTE = 200  # per account, on each API (DESIGN §9)
WINDOW_S = 60
# A request takes its slot in one second and may reach Alpaca in the next, where Alpaca's window (opened on
# a whole second) may already count it: each slot stays counted one second longer than Alpaca's window, so
# the requests of any window Alpaca may open never exceed its limit (the cost: 1/61 of the throughput).
IN_FLIGHT_S = 1
LINE_TTL_MS = 3_600_000  # a waiting line nobody joined for an hour starts again
UNAVAILABLE_RETRY_S = 1.0
MIN_PAUSE_S = 1.0  # a 429 pauses every sender at least this long


class RateLimitWait(requests.exceptions.RequestException):
    """The account's budget refused the request before it left: nothing was sent; retry after."""

    def __init__(self, lane: Lane, retry_after_s: float, why: str) -> None:
        super().__init__(f"Alpaca {lane} requests wait {retry_after_s:.1f} s: {why}")
        self.lane = lane
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class LaneBudget:
    """One lane's budget now, as `tradeflow health` shows it."""

    lane: Lane
    limit: int
    window_s: int
    used: int  # by every sender, in the sliding window
    paused_for_s: float  # Alpaca asked every sender to wait this much longer (0: not paused)
    alpaca_remaining: int | None  # X-RateLimit-Remaining of Alpaca's last answer, if it sent one
    alpaca_reset_at: int | None

    @property
    def remaining(self) -> int:
        return 0 if self.paused_for_s > 0 else max(0, self.limit - self.used)


def account_id_of(api_key: str, server: str) -> str:
    """The account's name in shared keys: a digest of its API key id and server, never the key itself
    (two emulators on two ports are two accounts; every process of one deployment names the same)."""
    return hashlib.sha256(f"{server}\n{api_key}".encode()).hexdigest()[:16]


def masked(api_key: str) -> str:
    """The API key id as an operator may read it: its first four and last four characters."""
    return f"{api_key[:4]}…{api_key[-4:]}" if len(api_key) > 8 else "…"


class AccountBudget:
    """The request budget of one Alpaca account, per lane, shared through `state`."""

    def __init__(
        self,
        state: SharedState,
        *,
        api_key: str,
        server: str,
        limits: Mapping[Lane, int] | None = None,
        window_s: int = WINDOW_S,
        namespace: str = "tradeflow",
    ) -> None:
        self.state = state
        self.account = masked(api_key)
        self.window_s = window_s
        self.span_s = window_s + IN_FLIGHT_S  # how long a slot stays counted
        self.limits: dict[Lane, int] = {lane: ALPACA_REQUESTS_PER_MINUTE for lane in LANES}
        self.limits.update(limits or {})
        prefix = f"{namespace}:alpaca:{account_id_of(api_key, server)}"
        self._keys = {lane: f"{prefix}:{lane}" for lane in LANES}
        self._limiters = {
            lane: WindowRateLimiter(
                state.limiter_backend, f"{prefix}:{lane}:window", limit=self.limits[lane], window=self.span_s
            )
            for lane in LANES
        }

    # -- one request --------------------------------------------------------------------------------

    def take(self, lane: Lane) -> None:
        """A slot for one request of `lane`, now; else RateLimitWait, and the request must not leave."""
        try:
            paused = self._paused_for(lane)
            if paused > 0:
                raise RateLimitWait(lane, paused, "Alpaca's rate limit resets then")
            with self._limiters[lane].acquire(raise_on_failure=False) as acquired:
                if not acquired:
                    raise RateLimitWait(lane, self._slot_frees_in(lane), "the account's budget is spent")
        except (SharedStateUnavailable, redis.RedisError) as exc:
            raise RateLimitWait(
                lane, UNAVAILABLE_RETRY_S, f"the shared budget is unavailable ({exc})"
            ) from exc

    def observe(self, lane: Lane, status: int, headers: Mapping[str, str]) -> None:
        """Read Alpaca's answer: a 429, or no requests remaining, pauses every sender until the reset."""
        remaining, reset_at = (
            _int_header(headers, "X-RateLimit-Remaining"),
            _int_header(headers, "X-RateLimit-Reset"),
        )
        try:
            if remaining is not None:
                seen = json.dumps({"remaining": remaining, "reset_at": reset_at})
                self.state.put(f"{self._keys[lane]}:seen", seen, self.window_s * 1000)
            if status != 429 and remaining != 0:
                return
            now = time.time()
            pause_s = min(reset_in_s(headers, self.window_s, now=now), self.window_s + 1.0)
            self.state.put(f"{self._keys[lane]}:paused", str(now + pause_s), math.ceil(pause_s * 1000))
            logger.warning(
                "Alpaca %s budget of %s spent (%s): every sender waits %.1f s",
                lane,
                self.account,
                "429" if status == 429 else "X-RateLimit-Remaining: 0",
                pause_s,
            )
        except SharedStateUnavailable:
            logger.warning("Could not share Alpaca's rate-limit answer: the shared state is unavailable")

    # -- a trade that must wait ---------------------------------------------------------------------

    def admission(self, lane: Lane, waiter: str) -> float:
        """Seconds `waiter` (a trade id) should wait before its request may find a slot; 0: try now.

        A waiter that must wait joins the account's line once (a ticket). Its wait is read off the window:
        the slots each second of it frees, oldest first, are handed out along the line, so the waiter with
        k ahead of it comes back when the (k+1)-th slot frees, and a line longer than one window's worth
        comes back a window later to look again. A waiter let through leaves the line.
        """
        try:
            paused = self._paused_for(lane)
            counts = self._window_counts(lane)
            ticket_key = f"{self._keys[lane]}:line:{waiter}"
            if paused <= 0 and sum(counts) < self.limits[lane]:
                if self.state.get(ticket_key) is not None:
                    self.state.delete(ticket_key)
                    self.state.incr(f"{self._keys[lane]}:served", LINE_TTL_MS)
                return 0.0
            held = self.state.get(ticket_key)
            if held is None:
                ticket = self.state.incr(f"{self._keys[lane]}:tickets", LINE_TTL_MS)
                self.state.put(ticket_key, str(ticket), LINE_TTL_MS)
            else:
                ticket = int(held)
            served = int(self.state.get(f"{self._keys[lane]}:served") or 0)
        except (SharedStateUnavailable, redis.RedisError):
            return UNAVAILABLE_RETRY_S
        ahead = max(0, ticket - served - 1)
        turn = self._turn_in(counts, self.limits[lane], ahead)
        # A little spread, so the waiters handed one second's slots do not all arrive in the same instant.
        return max(paused, turn) + random.uniform(0.0, 0.25)

    def _turn_in(self, counts: list[int], limit: int, ahead: int) -> float:
        """Seconds until the window has freed a slot for each of `ahead` waiters and one more."""
        needed = sum(counts) - limit + 1 + ahead
        now = time.time()
        for age in range(len(counts) - 1, -1, -1):  # the oldest second leaves the window first
            needed -= counts[age]
            if needed <= 0:
                return max(0.0, math.floor(now) - age + self.span_s - now)
        return float(self.span_s)  # further back than one window frees: look again a window later

    # -- what is left -------------------------------------------------------------------------------

    def snapshot(self) -> list[LaneBudget]:
        """Each lane's budget now (SharedStateUnavailable when it cannot be read)."""
        budgets = []
        for lane in LANES:
            counts = self._window_counts(lane)
            seen_text = self.state.get(f"{self._keys[lane]}:seen")
            seen = json.loads(seen_text) if seen_text else {}
            budgets.append(
                LaneBudget(
                    lane=lane,
                    limit=self.limits[lane],
                    window_s=self.window_s,
                    used=sum(counts),
                    paused_for_s=round(self._paused_for(lane), 1),
                    alpaca_remaining=seen.get("remaining"),
                    alpaca_reset_at=seen.get("reset_at"),
                )
            )
        return budgets

    def _paused_for(self, lane: Lane) -> float:
        until = self.state.get(f"{self._keys[lane]}:paused")
        return max(0.0, float(until) - time.time()) if until else 0.0

    def _window_counts(self, lane: Lane) -> list[int]:
        """Requests counted in each second of the window, newest first (dramatiq's per-second keys)."""
        keys = self._limiters[lane]._get_keys()
        return [int(value) if value else 0 for value in self.state.get_many(keys)]

    def _slot_frees_in(self, lane: Lane) -> float:
        """Seconds until the window holds fewer requests than the limit (0: it does now)."""
        counts = self._window_counts(lane)
        if sum(counts) < self.limits[lane]:
            return 0.0
        return self._turn_in(counts, self.limits[lane], 0)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    with contextlib.suppress(TypeError, ValueError):
        value = headers.get(name)
        return int(float(value)) if value not in (None, "") else None
    return None


def reset_in_s(headers: Mapping[str, str], default_s: float, *, now: float | None = None) -> float:
    """Seconds until Alpaca's rate limit lets requests through again, as its answer says
    (X-RateLimit-Reset, else Retry-After, else `default_s`), and never less than MIN_PAUSE_S.

    The one reading of a 429: the budget pauses every sender this long, and the trade it refused waits the
    same, so its next attempt does not arrive while the pause still holds (the reset is whole seconds: a
    reset "now" may be most of a second away)."""
    now = time.time() if now is None else now
    reset_at = _int_header(headers, "X-RateLimit-Reset")
    until = float(reset_at) if reset_at is not None else now + _retry_after(headers, default_s)
    return max(until - now, MIN_PAUSE_S)


def _retry_after(headers: Mapping[str, str], default_s: float) -> float:
    with contextlib.suppress(TypeError, ValueError):
        return float(headers.get("Retry-After") or default_s)
    return default_s
