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
    at_ns: int  # when it was answered (or dropped)
    client_order_id: str | None = None  # the order request's, or the lookup's
    received_ns: int | None = None  # when it arrived, before any fault delayed it


class TrafficLog:
    def __init__(self) -> None:
        self.requests: list[Request] = []

    def record(
        self,
        method: str,
        path: str,
        route: str,
        status: int | str,
        fault: str | None,
        *,
        client_order_id: str | None = None,
        received_ns: int | None = None,
    ) -> None:
        answered = now_ns()
        self.requests.append(
            Request(method, path, route, status, fault, answered, client_order_id, received_ns or answered)
        )

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
                    "client_order_id": r.client_order_id,
                    "received_at": rfc3339_ns(r.received_ns or r.at_ns),
                    "at": rfc3339_ns(r.at_ns),
                }
                for r in self.requests
            ],
        }
