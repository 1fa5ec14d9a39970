"""What every process sending for one Alpaca account shares: its request windows, the pause after a 429,
the line of trades waiting for a slot, and the views that spare requests (quotes, the account).

In a deployment it is Redis, the component dramatiq's own rate limiters keep their windows in: every
process on every host then counts against the same limit. MemoryState holds the same for one process
(unit tests, a single-process stack without Redis). Calls are synchronous and short; callers on an event
loop run them in a thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import redis
from dramatiq.rate_limits import RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

# A shared-state call never waits longer than this for Redis (loopback answers in well under a millisecond).
REDIS_TIMEOUT_S = 1.0


class SharedStateUnavailable(Exception):
    """The shared state (Redis) could not be read or written: no request is counted, so none may leave."""


class SharedState(Protocol):
    """A few keys with expiry, and the backend dramatiq's rate limiters count in."""

    name: str

    @property
    def limiter_backend(self) -> RateLimiterBackend: ...

    def get(self, key: str) -> bytes | None: ...

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    def put(self, key: str, value: str, ttl_ms: int) -> None: ...

    def put_new(self, key: str, value: str, ttl_ms: int) -> bool:
        """Set `key` only if it is absent; True when it was set."""
        ...

    def incr(self, key: str, ttl_ms: int) -> int:
        """Add one to a counter (created at 0) and keep it `ttl_ms` more; its new value."""
        ...

    def delete(self, key: str) -> None: ...

    def close(self) -> None: ...


class RedisState:
    """The shared state in Redis: one connection pool per process, dramatiq's RedisBackend on it."""

    name = "redis"

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
        self._backend = RedisBackend(client=self.client)

    @property
    def limiter_backend(self) -> RateLimiterBackend:
        return self._backend

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except redis.RedisError as exc:
            raise SharedStateUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc

    def get(self, key: str) -> bytes | None:
        value = self._call("get", key)
        return value if isinstance(value, bytes) else None

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        return [v if isinstance(v, bytes) else None for v in self._call("mget", list(keys))]

    def put(self, key: str, value: str, ttl_ms: int) -> None:
        self._call("set", key, value, px=max(1, ttl_ms))

    def put_new(self, key: str, value: str, ttl_ms: int) -> bool:
        return bool(self._call("set", key, value, px=max(1, ttl_ms), nx=True))

    def incr(self, key: str, ttl_ms: int) -> int:
        value = int(self._call("incr", key))
        self._call("pexpire", key, max(1, ttl_ms))
        return value

    def delete(self, key: str) -> None:
        self._call("delete", key)

    def close(self) -> None:
        self.client.close()


class MemoryState:
    """The shared state of one process: dramatiq's StubBackend for the windows, a dict for the rest."""

    name = "memory"

    def __init__(self) -> None:
        self._backend = StubBackend()
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, float]] = {}

    @property
    def limiter_backend(self) -> RateLimiterBackend:
        return self._backend

    def _live(self, key: str) -> str | None:
        value, expires = self._values.get(key, ("", 0.0))
        return value if time.monotonic() < expires else None

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._live(key)
        if value is None:
            # dramatiq's stub keeps the windows' counters in its own table
            counted = self._backend._get(key)
            return None if counted is None else str(counted).encode()
        return value.encode()

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self.get(key) for key in keys]

    def put(self, key: str, value: str, ttl_ms: int) -> None:
        with self._lock:
            self._values[key] = (value, time.monotonic() + ttl_ms / 1000)

    def put_new(self, key: str, value: str, ttl_ms: int) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._values[key] = (value, time.monotonic() + ttl_ms / 1000)
            return True

    def incr(self, key: str, ttl_ms: int) -> int:
        with self._lock:
            value = int(self._live(key) or 0) + 1
            self._values[key] = (str(value), time.monotonic() + ttl_ms / 1000)
            return value

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def close(self) -> None:
        """Nothing to release."""
