"""Chain heads read a moment ago with their trade, kept for the chained write that usually follows.

A stage reads its trade (`get_trade`) and then writes audit links onto the trade's chain, which needs the
chain's head. Reading the head in the same BatchGetItem as the trade and keeping it here saves the write a
consistent GetItem of its own. A hint is only ever a guess: the write is conditioned on the head it linked
after, so a hint that went stale (another writer linked since) fails that condition and the head is read
again, exactly as a head read just before the write would have. Each hint is used once and is dropped after
`ttl_s`, so an old guess never costs a refused transaction later.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from workers.store.audit_chain import ChainHead

DEFAULT_TTL_S = 5.0
DEFAULT_CAPACITY = 4096


class Unknown:
    """No hint: the head must be read."""


UNKNOWN = Unknown()


class ChainHeadHints:
    """The last head seen per trade (None: the trade has no chain yet), for at most `ttl_s` seconds."""

    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._clock = clock
        self._hints: OrderedDict[str, tuple[float, ChainHead | None]] = OrderedDict()

    def remember(self, trade_id: str, head: ChainHead | None) -> None:
        self._hints.pop(trade_id, None)
        self._hints[trade_id] = (self._clock(), head)
        while len(self._hints) > self._capacity:
            self._hints.popitem(last=False)

    def take(self, trade_id: str) -> ChainHead | Unknown | None:
        """The trade's hint, removed; UNKNOWN when there is none or it is older than the TTL."""
        hint = self._hints.pop(trade_id, None)
        if hint is None or self._clock() - hint[0] > self._ttl_s:
            return UNKNOWN
        return hint[1]
