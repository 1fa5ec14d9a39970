"""What a stage decided, written on its span: `trade.status`, `trade.method`, and ERROR for a failed trade.

A stage reports a business outcome as the event it sends next (DESIGN §3: outcomes are events, not
exceptions), so its span would otherwise end OK whatever became of the trade. Reading the outgoing payload
keeps this in the tracing middleware, out of the handlers:
- TradeFailed: the trade failed at the stock broker. The span is ERROR, its description the failure code and
  message and `error.type` the code, so the tracing UI shows the failed trade in red. There is no exception
  to record here: where Alpaca refused the order, the CLIENT span of that request, under this one, is ERROR
  with the HTTP status.
- TradeRejected: the policy refused the trade. That is validation doing its job, not an error: the span
  stays OK and carries `trade.status = rejected` and the first reason's code as `trade.error_code`.
- TradeExecuted: `trade.status` and `trade.method`; TradeWorking: `trade.status` (working or unknown).
A message that raises (and is retried, then dead-lettered) is ERROR with the exception recorded by the
middleware itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.trace import Span, Status, StatusCode

_MAX_CHARS = 256


def describe_outcome(span: Span, payload: object) -> None:
    """Annotate the sending stage's `span` with the outcome `payload` (a chain message as a dict) carries."""
    if not isinstance(payload, Mapping) or not span.is_recording():
        return
    kind = payload.get("type")
    if kind == "TradeExecuted":
        _set(span, "trade.status", "executed")
        _set(span, "trade.method", _get(payload, "execution", "execution_method"))
    elif kind == "TradeFailed":
        code = _get(payload, "error", "code") or "FAILED"
        _set(span, "trade.status", "failed")
        _set(span, "trade.method", _get(payload, "error", "execution_method"))
        _set(span, "error.type", code)
        span.set_status(Status(StatusCode.ERROR, f"{code}: {_get(payload, 'error', 'message') or ''}"))
    elif kind == "TradeRejected":
        reasons = payload.get("reasons")
        first = reasons[0] if isinstance(reasons, list | tuple) and reasons else None
        _set(span, "trade.status", "rejected")
        _set(span, "trade.error_code", first.get("code") if isinstance(first, Mapping) else None)
    elif kind == "TradeWorking":
        _set(span, "trade.status", payload.get("state"))


def is_error(span: Span) -> bool:
    """True when the span's status is already ERROR (an SDK span exposes it; others are never ERROR)."""
    status = getattr(span, "status", None)
    return status is not None and status.status_code is StatusCode.ERROR


def _get(payload: Mapping[str, object], field: str, key: str) -> object:
    inner = payload.get(field)
    return inner.get(key) if isinstance(inner, Mapping) else None


def _set(span: Span, key: str, value: object) -> None:
    if isinstance(value, str) and value:
        span.set_attribute(key, value[:_MAX_CHARS])
