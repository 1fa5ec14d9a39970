"""The client instrumentations' hooks: tables, routes and the trade on a span; the exporters' URLs skipped."""

from __future__ import annotations

import uuid

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util.http import parse_excluded_urls
from requests import Request

from telemetry.instrumentation import (
    dynamodb_request_hook,
    dynamodb_response_hook,
    excluded_urls,
    requests_request_hook,
    table_names,
    url_template,
)
from telemetry.trade_context import current_trade_id, with_trade_id


def test_a_single_item_request_names_its_table() -> None:
    assert table_names({"TableName": "p-trades", "Key": {}}) == ["p-trades"]


def test_a_batch_names_every_table_it_reads() -> None:
    request = {"RequestItems": {"p-trades": {"Keys": []}, "p-audit": {"Keys": []}}}
    assert table_names(request) == ["p-audit", "p-trades"]


def test_a_transaction_names_each_table_once() -> None:
    items = [
        {"Put": {"TableName": "p-trades", "Item": {}}},
        {"Put": {"TableName": "p-audit", "Item": {}}},
        {"ConditionCheck": {"TableName": "p-audit", "Key": {}}},
    ]
    assert table_names({"TransactItems": items}) == ["p-audit", "p-trades"]


def test_a_request_without_tables_names_none() -> None:
    assert table_names({}) == [] and table_names(None) == [] and table_names({"TransactItems": [None]}) == []


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/paper/v2/orders", "/paper/v2/orders"),
        ("/v2/orders/61e69015-8549-4bfd-b9c3-01e75843f47d", "/v2/orders/{order_id}"),
        ("/v2/orders:by_client_order_id?client_order_id=x", "/v2/orders:by_client_order_id"),
        ("/v2/assets/AAPL", "/v2/assets/{symbol_or_asset_id}"),
        ("/v2/stocks/quotes/latest?symbols=AAPL", "/v2/stocks/quotes/latest"),
        ("/api/chat.postMessage", "/api/chat.postMessage"),
        ("/things/42/parts/7f9c3a52-1b7e-4d0c-9a53-3c1a2b4d5e6f", "/things/{id}/parts/{id}"),
    ],
)
def test_a_route_keeps_its_words_and_names_its_ids(path: str, route: str) -> None:
    assert url_template(path) == route


def test_the_otlp_endpoints_are_excluded_and_the_operators_list_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://collector.example:4318/v1/traces")
    monkeypatch.setenv("OTEL_PYTHON_EXCLUDED_URLS", "healthcheck")
    excluded = parse_excluded_urls(excluded_urls())
    assert excluded.url_disabled("http://127.0.0.1:4318/v1/metrics")
    assert excluded.url_disabled("https://collector.example:4318/v1/traces")
    assert excluded.url_disabled("http://alpaca/healthcheck")
    assert not excluded.url_disabled("http://127.0.0.1:43180/v2/orders")
    assert not excluded.url_disabled("https://paper-api.alpaca.markets/v2/orders")


def test_without_an_otlp_endpoint_the_exporters_default_is_excluded(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("ENDPOINT", "TRACES_ENDPOINT", "METRICS_ENDPOINT", "LOGS_ENDPOINT"):
        monkeypatch.delenv(f"OTEL_EXPORTER_OTLP_{variable}", raising=False)
    for variable in ("OTEL_PYTHON_EXCLUDED_URLS", "OTEL_PYTHON_REQUESTS_EXCLUDED_URLS"):
        monkeypatch.delenv(variable, raising=False)
    assert parse_excluded_urls(excluded_urls()).url_disabled("http://localhost:4318/v1/traces")


def _span_from(hook_call: object) -> ReadableSpan:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory := InMemorySpanExporter()))
    with provider.get_tracer("test").start_as_current_span("GET") as span:
        hook_call(span)  # type: ignore[operator]
    [finished] = memory.get_finished_spans()
    return finished


def test_a_dynamodb_span_names_a_transactions_tables_and_the_trade_it_works_for() -> None:
    trade_id = str(uuid.uuid4())
    items = [{"Put": {"TableName": "p-trades"}}, {"Put": {"TableName": "p-audit"}}]
    token = otel_context.attach(with_trade_id(trade_id))
    try:
        span = _span_from(
            lambda s: dynamodb_request_hook(s, "dynamodb", "TransactWriteItems", {"TransactItems": items})
        )
    finally:
        otel_context.detach(token)
    assert dict(span.attributes or {}) == {
        "aws.dynamodb.table_names": ("p-audit", "p-trades"),
        "trade.id": trade_id,
    }


def test_a_span_outside_a_trade_names_no_trade() -> None:
    assert current_trade_id() is None
    span = _span_from(lambda s: dynamodb_request_hook(s, "dynamodb", "GetItem", {"TableName": "p-control"}))
    assert dict(span.attributes or {}) == {"aws.dynamodb.table_names": ("p-control",)}


def test_a_refused_dynamodb_request_carries_its_error_code() -> None:
    refused = {"Error": {"Code": "TransactionCanceledException", "Message": "…"}}
    span = _span_from(lambda s: dynamodb_response_hook(s, "dynamodb", "TransactWriteItems", refused))
    assert (span.attributes or {})["error.type"] == "TransactionCanceledException"
    span = _span_from(lambda s: dynamodb_response_hook(s, "dynamodb", "GetItem", {"Item": {}}))
    assert "error.type" not in (span.attributes or {})


def test_an_http_span_is_named_by_its_route() -> None:
    order_id = str(uuid.uuid4())
    request = Request("DELETE", f"https://paper-api.alpaca.markets/v2/orders/{order_id}?x=1").prepare()
    span = _span_from(lambda s: requests_request_hook(s, request))
    assert span.name == "DELETE /v2/orders/{order_id}"
    assert (span.attributes or {})["url.template"] == "/v2/orders/{order_id}"


def test_a_hook_given_garbage_never_fails_the_call_it_traces() -> None:
    dynamodb_request_hook(None, "dynamodb", "PutItem", {"TableName": "t"})  # type: ignore[arg-type]
    dynamodb_response_hook(None, "dynamodb", "PutItem", {"Error": {"Code": "X"}})  # type: ignore[arg-type]
    requests_request_hook(None, None)  # type: ignore[arg-type]
