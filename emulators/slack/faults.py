"""Fault injection: what `POST /admin/faults` asks for, and which Web API calls each fault hits.

A fault is a JSON object, for example
  {"kind": "ratelimited", "method": "chat.postMessage", "times": 2, "retry_after_s": 1}
  {"kind": "http_error", "status": 503, "method": "views.update"}
  {"kind": "slow", "delay_s": 5, "method": "views.open"}               # longer than the caller waits
  {"kind": "api_error", "error": "fatal_error", "method": "chat.postMessage"}
  {"kind": "no_answer", "method": "chat.postMessage"}                 # posted, answer never comes
Fields: `method` is a glob on the Web API method name ("chat.postMessage", "views.*", "*"); `channel` a glob
on the call's `channel` argument ("U*": the DMs an app posts to a user's ID; a call without one matches
"*" only); `times` is
how many calls it hits (null = every one). `phase` says whether the fault strikes before the call is
processed (nothing happens) or after (the call takes effect and only its answer is lost or late).

- ratelimited: HTTP 429, `Retry-After: retry_after_s`, `{"ok": false, "error": "ratelimited"}`.
- http_error: HTTP `status` (500, 502, 503, 504) with `{"ok": false, "error": "internal_error"}`
  (503: "service_unavailable"); default phase "before".
- slow: wait `delay_s` before processing (default) or before answering (phase "after").
- drop_connection: abort the TCP connection without an answer; default phase "after".
- api_error: HTTP 200 `{"ok": false, "error": error}`, e.g. "fatal_error", "channel_not_found".
- no_answer: the ambiguous call. The call takes effect (default phase "after") and its answer never comes:
  the connection is held open until the client gives up (its timeout), or `hold_s` passes and the emulator
  closes it unanswered. The caller cannot tell whether the call happened; a message posted so is marked
  `answer_lost` in /admin/messages and its call's status is "no_answer".
Any fault of phase "after" but `slow` loses the answer of a call that took effect: a message posted through
it carries `answer_lost` = the fault's kind.
"""

from __future__ import annotations

import fnmatch
import itertools
from typing import Literal

import msgspec

Kind = Literal["ratelimited", "http_error", "slow", "drop_connection", "api_error", "no_answer"]
# Faults whose default phase is "after": the call happens and only its answer is lost.
AFTER_BY_DEFAULT = frozenset({"drop_connection", "no_answer"})
HTTP_STATUSES = frozenset({500, 502, 503, 504})


class FaultSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Kind
    method: str = "*"
    channel: str = "*"
    times: int | None = 1
    phase: Literal["before", "after"] | None = None
    status: int = 500
    delay_s: float = 1.0
    hold_s: float = 30.0  # no_answer: how long the connection is held before it is closed unanswered
    retry_after_s: int = 1
    error: str = "fatal_error"

    def __post_init__(self) -> None:
        if self.kind == "http_error" and self.status not in HTTP_STATUSES:
            raise ValueError(f"status must be one of {sorted(HTTP_STATUSES)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or null for every matching call")
        if self.delay_s < 0 or self.retry_after_s < 0 or self.hold_s < 0:
            raise ValueError("delay_s, hold_s and retry_after_s must not be negative")


class Fault:
    _ids = itertools.count(1)

    def __init__(self, spec: FaultSpec) -> None:
        self.id = next(self._ids)
        self.spec = spec
        self.kind = spec.kind
        self.phase = spec.phase or ("after" if spec.kind in AFTER_BY_DEFAULT else "before")
        self.remaining = spec.times
        self.hits = 0

    @property
    def loses_answer(self) -> bool:
        """Whether a call through this fault takes effect and its caller never learns it did."""
        return self.phase == "after" and self.kind != "slow"

    def matches(self, method: str, channel: str | None) -> bool:
        if self.remaining == 0 or not fnmatch.fnmatchcase(method, self.spec.method):
            return False
        if self.spec.channel == "*":
            return True
        return channel is not None and fnmatch.fnmatchcase(channel, self.spec.channel)

    def to_json(self) -> dict[str, object]:
        return {
            **msgspec.to_builtins(self.spec),
            "id": self.id,
            "phase": self.phase,
            "remaining": self.remaining,
            "hits": self.hits,
        }


class FaultBoard:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(spec)
        self._faults.append(fault)
        return fault

    def take(self, method: str, channel: str | None = None) -> Fault | None:
        """The first armed fault matching this call (to `channel`, when it names one), which is used up
        by one."""
        for fault in self._faults:
            if fault.matches(method, channel):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def to_json(self) -> list[dict[str, object]]:
        return [fault.to_json() for fault in self._faults]
