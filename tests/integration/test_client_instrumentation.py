"""OpenTelemetry's own instrumentations trace tradeflow's calls to DynamoDB (moto's server), Alpaca and Slack
(their emulators) as CLIENT spans under the caller's span, with tradeflow's attributes and no secret.

Every header is captured here (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_* = .*), the most an operator can
ask for, so the credential headers are in the spans and must be [REDACTED].
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import aioboto3
import pytest
from botocore.exceptions import ClientError
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, Tracer

from brokers.alpaca import AlpacaPaperBroker
from emulators.alpaca import AlpacaEmulator
from emulators.slack import SlackEmulator
from messages.trade import Execution
from telemetry.instrumentation import instrument_clients, uninstrument_clients
from telemetry.otlp_sink import OtlpSink, read_spans
from telemetry.tracing import TradeIdGenerator, trade_root_span
from tests.fixtures_alpaca import make_broker
from tests.unit.fakes import trade
from workers.slack.web_client import SessionWebClient


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[OtlpSink]:
    with OtlpSink(tmp_path / "spans.jsonl") as sink:
        yield sink


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, sink: OtlpSink) -> Iterator[TracerProvider]:
    """The clients instrumented onto a provider of the test's own, exporting in memory."""
    for variable, value in {
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS": "",
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
    }.items():
        monkeypatch.setenv(variable, value)  # restored afterwards, whatever instrument_clients adds
    provider = TracerProvider(id_generator=TradeIdGenerator())
    provider.add_span_processor(SimpleSpanProcessor(memory := InMemorySpanExporter()))
    provider.memory = memory  # type: ignore[attr-defined]
    instrument_clients(tracer_provider=provider)
    yield provider
    uninstrument_clients()


def finished(provider: TracerProvider) -> Sequence[ReadableSpan]:
    return provider.memory.get_finished_spans()  # type: ignore[attr-defined,no-any-return]


def tracer(provider: TracerProvider) -> Tracer:
    return provider.get_tracer("test")


def clients(provider: TracerProvider) -> list[ReadableSpan]:
    return [span for span in finished(provider) if span.kind is SpanKind.CLIENT]


def every_string(spans: Sequence[ReadableSpan]) -> str:
    """Each span's name, attributes, events and status as one text to search."""
    return json.dumps(
        [
            [
                s.name,
                s.status.description,
                dict(s.attributes or {}),
                [dict(e.attributes or {}) for e in s.events],
            ]
            for s in spans
        ],
        default=str,
    )


@pytest.fixture
async def dynamodb(moto_endpoint: str) -> AsyncIterator[object]:
    async with aioboto3.Session().client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testingSecretValue",
    ) as client:
        yield client


async def _table(client: object, name: str) -> str:
    await client.create_table(  # type: ignore[attr-defined]
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


async def test_a_dynamodb_transaction_names_its_tables_and_trade_under_the_callers_span(
    provider: TracerProvider, dynamodb: object, table_prefix: str
) -> None:
    trades = await _table(dynamodb, f"{table_prefix}-trades")
    audit = await _table(dynamodb, f"{table_prefix}-audit")
    trade_id = str(uuid.uuid4())
    with trade_root_span(trade_id, "persistence process", tracer=tracer(provider)) as stage:
        await dynamodb.transact_write_items(  # type: ignore[attr-defined]
            TransactItems=[
                {"Put": {"TableName": trades, "Item": {"id": {"S": trade_id}}}},
                {"Put": {"TableName": audit, "Item": {"id": {"S": trade_id + "#010"}}}},
            ]
        )
        await dynamodb.batch_get_item(  # type: ignore[attr-defined]
            RequestItems={trades: {"Keys": [{"id": {"S": trade_id}}]}, audit: {"Keys": [{"id": {"S": "x"}}]}}
        )

    spans = {span.name: span for span in clients(provider)}
    transaction, batch = spans["DynamoDB.TransactWriteItems"], spans["DynamoDB.BatchGetItem"]
    for span in (transaction, batch):
        attributes = span.attributes or {}
        assert span.parent is not None and span.parent.span_id == stage.get_span_context().span_id
        assert span.context.trace_id == uuid.UUID(trade_id).int
        assert attributes["db.system"] == "dynamodb" and attributes["rpc.method"] == span.name.split(".")[1]
        assert sorted(attributes["aws.dynamodb.table_names"]) == sorted([trades, audit])  # type: ignore[arg-type]
        assert attributes["trade.id"] == trade_id
        assert span.status.status_code is not StatusCode.ERROR
    assert "testingSecretValue" not in every_string(finished(provider))


async def test_a_refused_dynamodb_request_is_an_error_span_with_dynamodbs_error_code(
    provider: TracerProvider, dynamodb: object, table_prefix: str
) -> None:
    trades = await _table(dynamodb, f"{table_prefix}-trades")
    put = {
        "TableName": trades,
        "Item": {"id": {"S": "t1"}},
        "ConditionExpression": "attribute_not_exists(id)",
    }
    await dynamodb.put_item(**put)  # type: ignore[attr-defined]
    with pytest.raises(ClientError):
        await dynamodb.put_item(**put)  # type: ignore[attr-defined]

    first, second = [s for s in clients(provider) if s.name == "DynamoDB.PutItem"]
    assert first.status.status_code is not StatusCode.ERROR
    assert second.status.status_code is StatusCode.ERROR
    assert (second.attributes or {})["error.type"] == "ConditionalCheckFailedException"


@pytest.fixture
async def alpaca(alpaca_emulator: AlpacaEmulator) -> AsyncIterator[AlpacaPaperBroker]:
    broker = make_broker(alpaca_emulator)
    yield broker
    await broker.close()


async def test_alpaca_calls_are_client_spans_with_their_route_under_the_callers_span_and_no_key(
    provider: TracerProvider, alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    t = trade(quantity=Decimal(2))
    trade_id = str(t.trade_id)
    with trade_root_span(trade_id, "execution process", tracer=tracer(provider)) as stage:
        result = await alpaca.execute(t)
    assert isinstance(result, Execution)

    calls = clients(provider)
    [order] = [s for s in calls if s.name == "POST /paper/v2/orders"]
    attributes = order.attributes or {}
    assert attributes["url.template"] == "/paper/v2/orders"
    assert attributes["http.request.method"] == "POST" and attributes["http.response.status_code"] == 200
    assert attributes["url.full"] == alpaca_emulator.base_url + "/v2/orders"
    assert order.parent is not None and order.parent.span_id == stage.get_span_context().span_id
    # Every request the execution made is in the trade's trace, and says which trade it was for.
    assert all(s.context.trace_id == uuid.UUID(trade_id).int for s in calls)
    assert all((s.attributes or {}).get("trade.id") == trade_id for s in calls)
    polls = {s.name for s in calls} - {order.name}
    assert polls and all(s.startswith("GET /paper/v2/") or s.startswith("GET /v2/") for s in polls)
    # The key headers were captured, and redacted: neither key is anywhere in a span.
    assert attributes["http.request.header.apca_api_secret_key"] == ("[REDACTED]",)
    text = every_string(finished(provider))
    assert alpaca_emulator.key_id not in text and alpaca_emulator.secret_key not in text


async def test_an_order_alpaca_refuses_is_an_error_span_with_its_status(
    provider: TracerProvider, alpaca: AlpacaPaperBroker, alpaca_emulator: AlpacaEmulator
) -> None:
    alpaca_emulator.admin.add_fault("refuse_buying_power")
    t = trade(quantity=Decimal(2))
    with trade_root_span(str(t.trade_id), "execution process", tracer=tracer(provider)):
        await alpaca.execute(t)

    [order] = [s for s in clients(provider) if s.name == "POST /paper/v2/orders"]
    assert order.status.status_code is StatusCode.ERROR
    assert (order.attributes or {})["http.response.status_code"] == 403


async def test_slack_calls_are_client_spans_named_by_method_on_one_session_and_no_token(
    provider: TracerProvider, slack_emulator: SlackEmulator
) -> None:
    client = SessionWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url)
    trade_id = str(uuid.uuid4())
    with trade_root_span(trade_id, "notifications process", tracer=tracer(provider)) as stage:
        await client.auth_test()
        session = client.session
        await client.chat_postMessage(channel="U0TRADER01", text="one")
        opened = await client.conversations_open(users="U0TRADER01")
        await client.conversations_history(channel=opened["channel"]["id"], limit=5)  # a GET, with a query
    assert session is not None and client.session is session and not session.closed
    await client.close()
    assert session.closed and client.session is None

    spans = {span.name: span for span in clients(provider)}
    assert {"POST /api/auth.test", "POST /api/chat.postMessage"} <= set(spans)
    post = spans["POST /api/chat.postMessage"]
    attributes = post.attributes or {}
    assert post.parent is not None and post.parent.span_id == stage.get_span_context().span_id
    assert attributes["url.template"] == "/api/chat.postMessage" and attributes["trade.id"] == trade_id
    assert attributes["http.request.header.authorization"] == ("[REDACTED]",)
    assert all("?" not in str((s.attributes or {}).get("url.full")) for s in spans.values())
    assert slack_emulator.bot_token not in every_string(finished(provider))
    assert [m["text"] for m in slack_emulator.admin.messages()] == ["one"]


def test_the_otlp_exporters_own_requests_make_no_spans(provider: TracerProvider, sink: OtlpSink) -> None:
    # A process's provider exports through OTLP/HTTP (requests); the instrumented requests must not trace it,
    # neither under the SDK's export (suppressed) nor when the exporter is called directly (excluded URL).
    exporting, kept = TracerProvider(), InMemorySpanExporter()
    exporting.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=sink.traces_url, timeout=5)))
    exporting.add_span_processor(SimpleSpanProcessor(kept))
    with exporting.get_tracer("test").start_as_current_span("work"):
        pass
    assert exporting.force_flush(5_000)
    exporting.shutdown()
    OTLPSpanExporter(endpoint=sink.traces_url, timeout=5).export(kept.get_finished_spans())

    assert [span["name"] for span in read_spans(sink.out_path)] == ["work", "work"]
    assert finished(provider) == ()
