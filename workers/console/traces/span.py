"""One span as every trace backend gives it to `tradeflow trace`, and the port each backend implements."""

from __future__ import annotations

from typing import Any, Literal, Protocol

import msgspec

StatusCode = Literal["UNSET", "OK", "ERROR"]


class TraceSpan(msgspec.Struct, frozen=True, kw_only=True):
    """A span normalized across backends; what a backend does not keep (Phoenix: service, kind) is None."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    service: str | None
    kind: str | None
    start_ns: int
    end_ns: int
    status: StatusCode
    status_message: str = ""
    attributes: dict[str, Any] = {}


class TraceBackendError(RuntimeError):
    """The backend could not be asked (down, wrong URL, unexpected answer); the message says which."""


class TraceBackend(Protocol):
    """Where a trace's spans are read from, and where a person opens it."""

    @property
    def source(self) -> str:
        """The file or URL the spans come from, for the output."""
        ...

    def spans(self, trace_id: str) -> list[TraceSpan]:
        """Return every span of the trace (lowercase hex id); none when the backend has no such trace."""
        ...

    def ui_link(self, trace_id: str) -> str | None:
        """Return the URL of the trace in the backend's UI, or None when it has no UI."""
        ...
