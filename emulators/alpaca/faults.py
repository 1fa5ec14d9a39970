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
  `answer_after_s` holds the error answer that long (a gateway that times out slowly): a 504 held just
  under a client's request bound makes each of alpaca-py's own resends as slow.
- slow: wait `delay_s` before processing (phase "before", the default) or before answering ("after").
  A slow request is still processed after the client gave up, as a real server's would be.
- drop_connection: abort the TCP connection without an answer; default phase "after" (the order is
  accepted and stored, the client sees a dropped connection: alpacahq/Alpaca-API#270).
Kinds that hit the next order submission (default method POST, path /v2/orders):
- reject: the order is accepted (200), then rejected (status `rejected`, a `rejected` stream event).
- refuse_buying_power: 403 40310000 "insufficient buying power".
- refuse_order: 422 42210000 with `message` (default "unable to process order").
- accept_then_504: the order is accepted and goes to market, but the gateway answers 504 Gateway
  Time-out; every resend of that order request (a POST /v2/orders with the same client_order_id) while
  the fault is on the board is answered `resend_status` before it is processed: 429 (42910000 "rate
  limit exceeded", X-RateLimit-Limit/-Remaining/-Reset and Retry-After `retry_after_s`), 403 (40310000
  "insufficient buying power": the accepted order holds it), 401 (40110000 "request is not authorized")
  or 422 (40010001 "client_order_id must be unique", what Alpaca itself answers; the default). This is
  how alpaca-py's own resend of a 504 sees Alpaca (its REST client resends 429 and 504 three times).
  Lookups (GET /v2/orders:by_client_order_id) find the order as usual. `answer_after_s` holds the 504.
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
    "accept_then_504",
    "market_closed",
    "drop_stream",
]
ORDER_KINDS = frozenset({"reject", "refuse_buying_power", "refuse_order"})
# Kinds whose defaults are the order submission (POST /v2/orders) rather than every request.
ORDER_DEFAULTED = ORDER_KINDS | {"accept_then_504"}
RESEND_STATUSES = frozenset({401, 403, 422, 429})
AFTER_KINDS = frozenset({"drop_connection", "accept_then_504"})  # their default phase is "after"
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
    resend_status: int = 422
    answer_after_s: float = 0.0

    def __post_init__(self) -> None:
        if self.kind == "http_error" and self.status not in HTTP_STATUSES:
            raise ValueError(f"status must be one of {sorted(HTTP_STATUSES)}")
        if self.kind == "accept_then_504" and self.resend_status not in RESEND_STATUSES:
            raise ValueError(f"resend_status must be one of {sorted(RESEND_STATUSES)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or null for every matching request")
        if min(self.delay_s, self.retry_after_s, self.answer_after_s) < 0:
            raise ValueError("delay_s, retry_after_s and answer_after_s must not be negative")


class Fault:
    _ids = itertools.count(1)

    def __init__(self, spec: FaultSpec) -> None:
        order_kind = spec.kind in ORDER_DEFAULTED
        self.id = next(self._ids)
        self.spec = spec
        self.kind = spec.kind
        self.method = spec.method.upper() if spec.method != "*" or not order_kind else "POST"
        self.path = spec.path if spec.path != "*" or not order_kind else "/v2/orders"
        self.phase = spec.phase or ("after" if spec.kind in AFTER_KINDS else "before")
        self.remaining = spec.times
        self.hits = 0
        # accept_then_504: the client order ids answered 504 after acceptance, and the resends refused since.
        self.accepted: set[str] = set()
        self.resends = 0

    def is_resend(self, method: str, path: str, client_order_id: str | None) -> bool:
        """A resend of an order request this fault answered 504 after accepting it."""
        return (
            client_order_id is not None
            and client_order_id in self.accepted
            and self.method in ("*", method)
            and fnmatch.fnmatchcase(path, self.path)
        )

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
            **({"accepted": sorted(self.accepted), "resends": self.resends} if self.accepted else {}),
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

    def take(self, method: str, path: str, client_order_id: str | None = None) -> Fault | None:
        """The fault this request meets: a resend of an order a fault accepted (that fault refuses every
        resend), else the first armed fault matching it, which is used up by one."""
        for fault in self._faults:
            if fault.is_resend(method, path, client_order_id):
                fault.resends += 1
                return fault
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
