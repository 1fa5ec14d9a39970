"""One trace per trade across processes: the Slack ingress and the workers export to an OTLP sink.

The trade comes in as Slack would send it (the emulator's driver, signed, to the ingress process), executes
on the Alpaca emulator and is told on the Slack emulator, so every kind of span a trade makes is here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from telemetry.otlp_sink import read_spans
from tests.e2e.stack import SlackStack
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

STAGES = ("validation", "persistence", "execution", "positions", "notifications")
Span = dict[str, Any]


async def _trade(flow: SlackStack, text: str) -> str:
    """`/trade TEXT`, then Execute Trade on the prefilled modal; returns the trade id."""
    command = await flow.driver.slash_command(text)
    view = eventually(lambda: flow.driver.opened_view(command.trigger_id), timeout=10)
    answer = await flow.driver.submit_view(view)
    assert answer.status == 200 and answer.body["response_action"] == "update"
    return str(json.loads(view["private_metadata"])["trade_id"])


def _trace(flow: SlackStack, trade_id: str, ready: Callable[[list[Span]], bool]) -> list[Span]:
    """The trade's spans (trace id = trade id) once `ready` says every expected one was exported."""
    trace_id = trade_id.replace("-", "")

    def spans() -> list[Span]:
        found = [s for s in read_spans(flow.stack.spans_path) if s["trace_id"] == trace_id]
        return found if ready(found) else []

    return eventually(spans, timeout=60)


def _named(spans: list[Span], name: str) -> list[Span]:
    return [s for s in spans if s["name"] == name]


def _stage(flow: SlackStack, spans: list[Span], stage: str) -> list[Span]:
    return _named(spans, f"{flow.stack.queue(stage)} process")


def _children(spans: list[Span], parent: Span, kind: str = "CLIENT") -> list[Span]:
    return [s for s in spans if s["parent_span_id"] == parent["span_id"] and s["kind"] == kind]


def _orders(spans: list[Span]) -> list[Span]:
    """The order requests to Alpaca (OTel's requests instrumentation, under alpaca-py)."""
    return [
        s
        for s in spans
        if s["attributes"].get("http.request.method") == "POST"
        and str(s["attributes"].get("url.template", "")).endswith("/v2/orders")
    ]


DM = "POST /api/chat.postMessage"  # a Slack Web API call (OTel's aiohttp-client instrumentation)


def _exceptions(span: Span) -> list[str]:
    """The class names (without their module) of the exceptions recorded on a span."""
    events = [e for e in span["events"] if e["name"] == "exception"]
    return [e["attributes"]["exception.type"].rsplit(".", 1)[-1] for e in events]


async def test_a_slack_trade_is_one_trace_from_the_ingress_through_five_stages_and_their_clients(
    slack_stack: SlackStack,
) -> None:
    flow = slack_stack
    trade_id = await _trade(flow, "buy 4 AAPL")
    eventually(lambda: flow.driver.messages_to("U123"), timeout=60)

    def complete(spans: list[Span]) -> bool:
        names = {s["name"] for s in spans}
        return (
            all(_stage(flow, spans, stage) for stage in STAGES)
            and {"trade submit", DM} <= names
            and bool(_orders(spans))
        )

    spans = _trace(flow, trade_id, complete)
    assert {s["trace_id"] for s in spans} == {trade_id.replace("-", "")}
    assert all(s["status_code"] != "ERROR" for s in spans), [
        s["name"] for s in spans if s["status_code"] == "ERROR"
    ]

    # The root: opened in the ingress process, the trade's first span.
    [root] = [s for s in spans if s["parent_span_id"] is None]
    assert root["name"] == "trade submit" and root["kind"] == "PRODUCER"
    assert root["service_name"] == "tradeflow-ingress"
    assert root["attributes"]["trade.id"] == trade_id and root["attributes"]["trade.symbol"] == "AAPL"

    # The parent chain: each stage's CONSUMER span hangs under the span that sent its message.
    parent = root
    for stage in STAGES:
        [span] = _stage(flow, spans, stage)
        assert span["kind"] == "CONSUMER" and span["service_name"] == "tradeflow-worker", stage
        assert span["parent_span_id"] == parent["span_id"], stage
        assert span["attributes"]["messaging.system"] == "rabbitmq"
        assert span["attributes"]["trade.id"] == trade_id and span["attributes"]["trade.quantity"] == "4"
        parent = span
    [execution] = _stage(flow, spans, "execution")
    assert execution["attributes"]["trade.status"] == "executed"
    assert execution["attributes"]["trade.method"] == "alpaca"

    # CLIENT spans under the stage that made the call, by OTel's instrumentations: DynamoDB (aiobotocore),
    # Alpaca (requests, under alpaca-py), Slack (aiohttp, under slack-sdk); each names the trade.
    stage_ids = {s["span_id"]: s["name"] for stage in STAGES for s in _stage(flow, spans, stage)}
    dynamodb = [s for s in spans if s["name"].startswith("DynamoDB.") and s["kind"] == "CLIENT"]
    assert dynamodb and all(s["parent_span_id"] in stage_ids for s in dynamodb)
    assert all(s["attributes"]["db.system"] == "dynamodb" for s in dynamodb)
    [order] = _orders(spans)
    assert order["kind"] == "CLIENT" and order["parent_span_id"] == execution["span_id"]
    assert order["name"] == f"POST {order['attributes']['url.template']}"
    assert order["attributes"]["http.response.status_code"] == 200
    [notifications] = _stage(flow, spans, "notifications")
    [dm] = _named(spans, DM)
    assert dm["kind"] == "CLIENT" and dm["parent_span_id"] == notifications["span_id"]
    clients = [s for s in spans if s["kind"] == "CLIENT" and s["parent_span_id"] in stage_ids]
    assert all(s["attributes"].get("trade.id") == trade_id for s in clients)


async def test_a_trade_alpaca_refuses_makes_its_execution_span_error_over_the_recorded_refusal(
    slack_stack: SlackStack,
) -> None:
    flow = slack_stack
    flow.stack.emulator.admin.add_fault(
        "refuse_buying_power"
    )  # the next order: 403 insufficient buying power
    trade_id = await _trade(flow, "buy 2 MSFT")
    eventually(lambda: flow.driver.messages_to("U123"), timeout=60)  # the failure DM

    def told(spans: list[Span]) -> bool:
        return bool(_stage(flow, spans, "notifications") and _named(spans, DM))

    spans = _trace(flow, trade_id, told)
    [execution] = _stage(flow, spans, "execution")
    # The business failure: the stage that decided it is ERROR, with the failure code.
    assert execution["status_code"] == "ERROR"
    assert execution["status_message"].startswith("INSUFFICIENT_BUYING_POWER: ")
    assert execution["attributes"]["error.type"] == "INSUFFICIENT_BUYING_POWER"
    assert execution["attributes"]["trade.status"] == "failed"
    # The refusal behind it is the Alpaca order request's answer: an ERROR span with its HTTP status.
    [order] = _orders(spans)
    assert order["parent_span_id"] == execution["span_id"]
    assert order["status_code"] == "ERROR" and order["attributes"]["http.response.status_code"] == 403
    # Nothing else failed: telling the trader is a success, and no position was touched.
    errors = {s["name"] for s in spans if s["status_code"] == "ERROR"}
    assert errors == {execution["name"], order["name"]}
    assert not _stage(flow, spans, "positions")


async def test_a_rate_limited_attempt_is_deferred_not_an_error_and_its_next_attempt_a_sibling(
    slack_stack: SlackStack,
) -> None:
    flow = slack_stack
    # Alpaca rate-limits the order request (alpaca-py's own resend is off: tradeflow sends it once): nothing
    # was placed, so the first attempt waits behind the account's limit (QueuedBehindRateLimit, a Deferred:
    # an answer, not an error) and the message comes back, whose second attempt executes.
    flow.stack.emulator.admin.add_fault("http_error", status=429, method="POST", path="/v2/orders", times=1)
    trade_id = await _trade(flow, "buy 3 AAPL")
    eventually(lambda: flow.driver.messages_to("U123"), timeout=60)

    def retried(spans: list[Span]) -> bool:
        return len(_stage(flow, spans, "execution")) == 2 and bool(_stage(flow, spans, "notifications"))

    spans = _trace(flow, trade_id, retried)
    first, second = sorted(_stage(flow, spans, "execution"), key=lambda s: s["start_time_unix_nano"])
    [persistence] = _stage(flow, spans, "persistence")
    assert first["parent_span_id"] == second["parent_span_id"] == persistence["span_id"]  # siblings
    assert first["status_code"] == "UNSET" and _exceptions(first) == []
    assert first["attributes"]["tradeflow.deferred"] is True
    assert first["attributes"]["tradeflow.deferred.reason"].startswith("QueuedBehindRateLimit: ")
    assert second["status_code"] == "OK" and second["attributes"]["trade.status"] == "executed"
    # The refused order request (429) is ERROR under the first attempt; the placed one is OK under the second.
    [refused] = _orders(_children(spans, first))
    [placed] = _orders(_children(spans, second))
    assert refused["status_code"] == "ERROR" and refused["attributes"]["http.response.status_code"] == 429
    assert placed["status_code"] != "ERROR"
    assert len(flow.stack.emulator.admin.orders(trade_id)) == 1
