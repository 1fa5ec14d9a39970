"""CLIENT spans for what a stage calls out to: DynamoDB, Alpaca and Slack, under the stage's own span.

No instrumentation package is pinned to this OTel release for aiohttp, so the spans are made here: one
context manager for any call, and botocore event hooks for every DynamoDB request aiobotocore sends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

TRACER = "tradeflow.clients"
_SPAN_KEY = "tradeflow_client_span"


@contextmanager
def client_span(system: str, operation: str, **attributes: Any) -> Iterator[Span]:
    """A CLIENT span `"{system} {operation}"`, ERROR with the exception recorded when the call raises."""
    tracer = trace.get_tracer(TRACER)
    attrs = {
        "rpc.system": system,
        "rpc.method": operation,
        **{k: v for k, v in attributes.items() if v is not None},
    }
    with tracer.start_as_current_span(
        f"{system} {operation}", kind=SpanKind.CLIENT, attributes=attrs
    ) as span:
        yield span


def trace_dynamodb(client: Any) -> None:
    """Open a CLIENT span around each DynamoDB request the (aio)botocore client sends."""
    events = client.meta.events
    events.register("before-call.dynamodb", _before_call)
    events.register("after-call.dynamodb", _after_call)
    events.register("after-call-error.dynamodb", _after_call_error)


def table_names(params: Any) -> list[str]:
    """The tables a DynamoDB request names: its TableName, or those of a batch's or a transaction's items."""
    if not isinstance(params, dict):
        return []
    if "TableName" in params:
        return [str(params["TableName"])]
    if "RequestItems" in params:  # BatchGetItem, BatchWriteItem
        return sorted(params["RequestItems"])
    operations: list[Any] = [op for item in params.get("TransactItems", []) for op in item.values()]
    return sorted({str(op["TableName"]) for op in operations if isinstance(op, dict) and "TableName" in op})


def _before_call(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    tables = table_names(params)
    span = trace.get_tracer(TRACER).start_span(
        f"DynamoDB {model.name}",
        kind=SpanKind.CLIENT,
        attributes={
            "rpc.system": "aws-api",
            "rpc.service": "DynamoDB",
            "rpc.method": model.name,
            "db.system": "dynamodb",
            **({"aws.dynamodb.table_names": tables} if tables else {}),
        },
    )
    context[_SPAN_KEY] = span


def _after_call(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    span: Span | None = context.pop(_SPAN_KEY, None)
    if span is None:
        return
    status = getattr(http_response, "status_code", None)
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
    if error:
        span.set_attribute("error.type", error)
        span.set_status(Status(StatusCode.ERROR, error))
    span.end()


def _after_call_error(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
    span: Span | None = context.pop(_SPAN_KEY, None)
    if span is not None:
        span.record_exception(exception)
        span.set_status(Status(StatusCode.ERROR, type(exception).__name__))
        span.end()
