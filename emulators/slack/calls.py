"""Every Web API call the emulator received, in arrival order, with what it answered."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Call:
    seq: int
    method: str  # the Web API method, e.g. "chat.postMessage"
    http_method: str
    token: str | None
    params: dict[str, Any]  # query, form and JSON arguments merged; JSON-string arguments decoded
    status: int | str  # the HTTP status, or "dropped" when the connection was aborted
    response: dict[str, Any] | None
    fault: str | None
    at_s: float  # when it arrived (Unix seconds)
    elapsed_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "http_method": self.http_method,
            "token": self.token,
            "params": self.params,
            "status": self.status,
            "response": self.response,
            "fault": self.fault,
            "at": datetime.fromtimestamp(self.at_s, UTC).isoformat(timespec="microseconds"),
            "at_s": self.at_s,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }


class CallLog:
    def __init__(self) -> None:
        self.calls: list[Call] = []

    def record(
        self,
        *,
        method: str,
        http_method: str,
        token: str | None,
        params: dict[str, Any],
        status: int | str,
        response: dict[str, Any] | None,
        fault: str | None,
        at_s: float,
    ) -> Call:
        elapsed_ms = (time.time() - at_s) * 1000
        call = Call(
            len(self.calls) + 1, method, http_method, token, params, status, response, fault, at_s, elapsed_ms
        )
        self.calls.append(call)
        return call

    def clear(self) -> None:
        self.calls.clear()

    def to_json(self, method: str | None = None) -> list[dict[str, Any]]:
        return [call.to_json() for call in self.calls if method is None or call.method == method]
