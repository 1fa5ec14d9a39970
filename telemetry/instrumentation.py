"""Trace every call to DynamoDB, Alpaca and Slack with OpenTelemetry's own client instrumentations.

aiobotocore (DynamoDB), requests (Alpaca, under alpaca-py) and aiohttp's client (Slack's Web API, under
slack-sdk) each make one CLIENT span per call, under the span current where the call was made. Their hooks
add what tradeflow's traces need: the trade a call worked for (`trade.id`), the tables a DynamoDB batch or
transaction touches and DynamoDB's error code, and each HTTP call's route as `url.template` and in its
name (`POST /v2/orders`, `POST /api/chat.postMessage`). No span holds a secret: headers are recorded only
if an operator asks (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*), and then the credential headers are
always [REDACTED]; a URL loses its userinfo (and Slack's its query); every exporter masks the configured
secrets besides (span_redaction.py). The exporters' own requests are never traced: the SDK suppresses
instrumentation while it exports, and the OTLP endpoints are excluded.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec

import aiohttp
import yarl
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.botocore import AiobotocoreInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, TracerProvider
from requests import PreparedRequest

from telemetry.trade_context import current_trade_id

logger = logging.getLogger(__name__)
P = ParamSpec("P")

# Header names (regular expressions, matched anywhere, any case) whose values a span never shows, whatever
# an operator asks to capture: Alpaca's key headers, Slack's bearer token, cookies, AWS session tokens.
SENSITIVE_HEADERS = ("apca-api", "authorization", "cookie", "token", "secret", "signature", "api-key")
SANITIZE_VARIABLE = "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS"
# The stable HTTP conventions (url.full, http.response.status_code, server.address, error.type), unless the
# operator chose otherwise: the instrumentations still default to the deprecated names.
SEMCONV_VARIABLE = "OTEL_SEMCONV_STABILITY_OPT_IN"
OTLP_ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
)
DEFAULT_OTLP_ENDPOINT = "http://localhost:4318"

# Path segments that name one thing (alpaca-py's own parameter names), so a route stays low-cardinality.
_NAMED_AFTER = {"orders": "{order_id}", "assets": "{symbol_or_asset_id}", "positions": "{symbol_or_asset_id}"}
_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d+")


def instrument_clients(
    tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
) -> None:
    """Instrument aiobotocore, requests and aiohttp's client sessions in this process; once, later calls
    do nothing. Sessions aiohttp opened before this are not traced: call it before opening clients."""
    _prefer_stable_http_conventions()
    _sanitize_credential_headers()
    providers: dict[str, Any] = {"tracer_provider": tracer_provider, "meter_provider": meter_provider}
    for instrumentor, hooks in (
        (
            AiobotocoreInstrumentor(),
            {"request_hook": dynamodb_request_hook, "response_hook": dynamodb_response_hook},
        ),
        (RequestsInstrumentor(), {"request_hook": requests_request_hook, "excluded_urls": excluded_urls()}),
        (AioHttpClientInstrumentor(), {"request_hook": aiohttp_request_hook, "url_filter": _without_query}),
    ):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**providers, **hooks)


def uninstrument_clients() -> None:
    """Undo `instrument_clients` (tests)."""
    for instrumentor in (AiobotocoreInstrumentor(), RequestsInstrumentor(), AioHttpClientInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def excluded_urls() -> str:
    """The URLs the requests instrumentation skips: the operator's (OTEL_PYTHON_REQUESTS_EXCLUDED_URLS, else
    OTEL_PYTHON_EXCLUDED_URLS) and every OTLP endpoint this process may export to."""
    generic = os.environ.get("OTEL_PYTHON_EXCLUDED_URLS", "")
    own = os.environ.get("OTEL_PYTHON_REQUESTS_EXCLUDED_URLS", generic)
    endpoints = {os.environ.get(name, "").strip() for name in OTLP_ENDPOINT_VARIABLES} - {""}
    endpoints = endpoints or {DEFAULT_OTLP_ENDPOINT}
    # The list is comma-separated: an endpoint with a comma in it could not be one of its entries.
    patterns = [f"^{re.escape(url.rstrip('/'))}(?=[/?#]|$)" for url in sorted(endpoints) if "," not in url]
    return ",".join([*(p.strip() for p in own.split(",") if p.strip()), *patterns])


def table_names(params: object) -> list[str]:
    """The tables a DynamoDB request names: its TableName, or those of a batch's or a transaction's items."""
    if not isinstance(params, Mapping):
        return []
    if "TableName" in params:
        return [str(params["TableName"])]
    if isinstance(params.get("RequestItems"), Mapping):  # BatchGetItem, BatchWriteItem
        return sorted(str(name) for name in params["RequestItems"])
    items = params.get("TransactItems") or []
    operations = [op for item in items if isinstance(item, Mapping) for op in item.values()]
    return sorted({str(op["TableName"]) for op in operations if _names_table(op)})


def _names_table(operation: object) -> bool:
    return isinstance(operation, Mapping) and "TableName" in operation


def url_template(path: str) -> str:
    """The route of an HTTP path: ids and the segment after orders/, assets/, positions/ as placeholders."""
    segments = path.split("?", 1)[0].split("/")
    route = []
    for before, segment in zip(["", *segments], segments, strict=False):
        if segment and before in _NAMED_AFTER:
            route.append(_NAMED_AFTER[before])
        elif _ID.fullmatch(segment):
            route.append("{id}")
        else:
            route.append(segment)
    return "/".join(route)


def _never_raises(hook: Callable[P, None]) -> Callable[P, None]:
    # The instrumentations call request hooks unguarded: a failing hook must not fail the call it traces.
    @functools.wraps(hook)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            hook(*args, **kwargs)
        except Exception:
            logger.debug("Span hook %s failed", hook.__name__, exc_info=True)

    return guarded


@_never_raises
def dynamodb_request_hook(span: Span, service_name: str, operation_name: str, api_params: Any) -> None:
    """Name the tables (a transaction's too, which the instrumentation leaves out) and the trade."""
    if not span.is_recording():
        return
    _name_trade(span)
    tables = table_names(api_params) if service_name == "dynamodb" else []
    if tables:
        span.set_attribute("aws.dynamodb.table_names", tables)


@_never_raises
def dynamodb_response_hook(span: Span, service_name: str, operation_name: str, result: Any) -> None:
    """Put DynamoDB's error code (ConditionalCheckFailedException, …) on a refused request's span."""
    error = result.get("Error") if isinstance(result, Mapping) else None
    code = error.get("Code") if isinstance(error, Mapping) else None
    if isinstance(code, str) and code and span.is_recording():
        span.set_attribute("error.type", code)


@_never_raises
def requests_request_hook(span: Span, request: PreparedRequest) -> None:
    """Name an Alpaca request's route and its trade."""
    path = request.path_url if request.url else ""
    _name_route(span, str(request.method or ""), path)


@_never_raises
def aiohttp_request_hook(span: Span, params: aiohttp.TraceRequestStartParams) -> None:
    """Name a Slack Web API call's route (`/api/chat.postMessage`) and its trade."""
    _name_route(span, params.method, params.url.path)


def _name_route(span: Span, method: str, path: str) -> None:
    if not span.is_recording():
        return
    _name_trade(span)
    if path:
        route = url_template(path)
        span.set_attribute("url.template", route)
        span.update_name(f"{method.upper()} {route}" if method else route)


def _name_trade(span: Span) -> None:
    trade_id = current_trade_id()
    if trade_id is not None:
        span.set_attribute("trade.id", trade_id)


def _without_query(url: yarl.URL) -> str:
    # Slack's Web API takes arguments in the query of a GET: none of them belongs in a span.
    return str(url.with_query(None).with_fragment(None))


def _prefer_stable_http_conventions() -> None:
    os.environ.setdefault(SEMCONV_VARIABLE, "http")


def _sanitize_credential_headers() -> None:
    # The instrumentations read the list from the environment only, when they are instrumented.
    own = [p.strip() for p in os.environ.get(SANITIZE_VARIABLE, "").split(",") if p.strip()]
    os.environ[SANITIZE_VARIABLE] = ",".join([*own, *(h for h in SENSITIVE_HEADERS if h not in own)])
