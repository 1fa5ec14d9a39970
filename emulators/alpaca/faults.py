"""Fault injection: what `POST /admin/faults` asks for, and which requests each fault hits.

A fault is a JSON object, for example
  {"kind": "http_error", "status": 503, "method": "POST", "path": "/v2/orders", "times": 1}
  {"kind": "drop_connection", "phase": "after"}                 # the order exists, the client sees a reset
  {"kind": "slow", "delay_s": 2.5, "phase": "before"}           # longer than the client's timeout
  {"kind": "http_error", "status": 429, "retry_after_s": 1, "times": 2}
Fields: `method` ("*" or GET/POST/DELETE…) and `path` (a glob on the path without the /paper prefix,
e.g. "/v2/orders", "/v2/orders/*", "*") pick the requests; `times` is how many it hits (null = every
one). `phase` says whether the fault strikes before the request is processed (nothing happens) or
after (the request takes effect, e.g. the order is accepted, and only its response is lost or late).

Kinds that hit matching requests:
- http_error: answer `status` (500, 502, 503, 504, 429) with Alpaca's body; default phase "before".
- slow: wait `delay_s` before processing (phase "before", the default) or before answering ("after").
  A slow request is still processed after the client gave up, as a real server's would be.
- drop_connection: abort the TCP connection without an answer; default phase "after" (the order is
  accepted and stored, the client sees a dropped connection: alpacahq/Alpaca-API#270).
Kinds that hit the next order submission (default method POST, path /v2/orders):
- reject: the order is accepted (200), then rejected (status `rejected`, a `rejected` stream event).
- refuse_buying_power: 403 40310000 "insufficient buying power".
- refuse_order: 422 42210000 with `message` (default "unable to process order").
Kinds that act at once when posted: market_closed (the clock closes and day orders expire),
drop_stream (every trade_updates socket is closed by the server).
"""

from __future__ import annotations

import fnmatch
import itertools
from typing import Literal

import msgspec

Kind = Literal[
    "http_error",
    "slow",
    "drop_connection",
    "reject",
    "refuse_buying_power",
    "refuse_order",
    "market_closed",
    "drop_stream",
]
ORDER_KINDS = frozenset({"reject", "refuse_buying_power", "refuse_order"})
IMMEDIATE_KINDS = frozenset({"market_closed", "drop_stream"})
HTTP_STATUSES = frozenset({429, 500, 502, 503, 504})


class FaultSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Kind
    method: str = "*"
    path: str = "*"
    times: int | None = 1
    phase: Literal["before", "after"] | None = None
    status: int = 500
    delay_s: float = 1.0
    retry_after_s: int = 1
    message: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "http_error" and self.status not in HTTP_STATUSES:
            raise ValueError(f"status must be one of {sorted(HTTP_STATUSES)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or null for every matching request")
        if self.delay_s < 0 or self.retry_after_s < 0:
            raise ValueError("delay_s and retry_after_s must not be negative")


class Fault:
    _ids = itertools.count(1)

    def __init__(self, spec: FaultSpec) -> None:
        order_kind = spec.kind in ORDER_KINDS
        self.id = next(self._ids)
        self.spec = spec
        self.kind = spec.kind
        self.method = spec.method.upper() if spec.method != "*" or not order_kind else "POST"
        self.path = spec.path if spec.path != "*" or not order_kind else "/v2/orders"
        self.phase = spec.phase or ("after" if spec.kind == "drop_connection" else "before")
        self.remaining = spec.times
        self.hits = 0

    def matches(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        return self.method in ("*", method) and fnmatch.fnmatchcase(path, self.path)

    def to_json(self) -> dict[str, object]:
        return {
            **msgspec.to_builtins(self.spec),
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "phase": self.phase,
            "remaining": self.remaining,
            "hits": self.hits,
        }


class FaultBoard:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(spec)
        if spec.kind in IMMEDIATE_KINDS:
            fault.remaining, fault.hits = 0, 1
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, which is used up by one."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def to_json(self) -> list[dict[str, object]]:
        return [fault.to_json() for fault in self._faults]
