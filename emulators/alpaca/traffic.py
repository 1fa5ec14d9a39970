"""A log of the API requests the emulator answered, for tests that count what a client sent."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from emulators.alpaca.formats import now_ns, rfc3339_ns


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as requested, without the /paper prefix
    route: str  # the route's template, e.g. /v2/orders/{order_id}
    status: int | str  # the HTTP status, or "dropped" when the connection was aborted
    fault: str | None
    at_ns: int


class TrafficLog:
    def __init__(self) -> None:
        self.requests: list[Request] = []

    def record(self, method: str, path: str, route: str, status: int | str, fault: str | None) -> None:
        self.requests.append(Request(method, path, route, status, fault, now_ns()))

    def clear(self) -> None:
        self.requests.clear()

    def to_json(self) -> dict[str, Any]:
        counts = Counter(f"{r.method} {r.route}" for r in self.requests)
        return {
            "counts": dict(counts),
            "requests": [
                {
                    "method": r.method,
                    "path": r.path,
                    "route": r.route,
                    "status": r.status,
                    "fault": r.fault,
                    "at": rfc3339_ns(r.at_ns),
                }
                for r in self.requests
            ],
        }
