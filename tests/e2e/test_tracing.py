"""One trace per trade: every stage's span, across processes, carries the trade id as its trace id."""

from __future__ import annotations

import json
from typing import Any

import pytest

from telemetry.otlp_sink import read_spans
from tests.e2e.stack import Stack
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

STAGES = ("validation", "persistence", "execution", "positions", "notifications")


def test_all_spans_of_a_trade_share_the_trade_id_as_trace_id(stack: Stack) -> None:
    done = stack.cli("submit", "--user", "U123", "buy", "3", "NVDA", "--wait", "--json")
    assert done.returncode == 0, done.stderr
    trade_id = json.loads(done.stdout)["trade_id"]
    trace_id = trade_id.replace("-", "")

    def stage_spans() -> list[dict[str, object]]:
        spans = [
            s for s in read_spans(stack.spans_path) if s.get("attributes", {}).get("trade.id") == trade_id
        ]
        names = {s["name"] for s in spans}
        return spans if all(f"{stack.queue(stage)} process" in names for stage in STAGES) else []

    spans = eventually(stage_spans, timeout=20)
    assert {s["trace_id"] for s in spans} == {trace_id}
    services = {s["service_name"] for s in spans}
    assert {
        "tradeflow-cli",
        "tradeflow-worker",
    } <= services  # the publisher and the workers are separate processes
    consumers = [s for s in spans if s["kind"] == "CONSUMER"]
    assert len(consumers) == len(STAGES)
    assert all(s["status_code"] != "ERROR" for s in consumers)
    by_id = {s["span_id"]: s for s in spans}
    # each stage's span hangs under the span that published its message
    for span in consumers:
        assert span["parent_span_id"] in by_id


def test_tradeflow_trace_prints_the_trades_span_tree(stack: Stack) -> None:
    done = stack.cli("submit", "--user", "U123", "buy", "2", "MSFT", "--wait", "--json")
    trade_id = json.loads(done.stdout)["trade_id"]

    stage_spans = {f"{stack.queue(s)} process" for s in STAGES}

    def tree() -> dict[str, object] | None:
        """The tree once every stage's span is exported (a span count alone is met by the first stages'
        store and publish spans before the last stages' own)."""
        shown = stack.cli("trace", trade_id, "--spans", str(stack.spans_path), "--json")
        doc = json.loads(shown.stdout)
        return doc if shown.returncode == 0 and stage_spans <= _names(doc["tree"]) else None

    doc = eventually(tree, timeout=20)
    assert doc is not None and doc["trace_id"] == trade_id.replace("-", "") and doc["errors"] == 0
    names, node = [], doc["tree"][0]  # type: ignore[index]
    while node:
        names.append(node["name"])
        stages = [child for child in node["children"] if child["name"].endswith(" process")]
        node = stages[0] if stages else None
    assert names == ["trade submit", *(f"{stack.queue(s)} process" for s in STAGES)]


def test_each_stage_shows_its_dynamodb_calls_as_client_spans(stack: Stack) -> None:
    done = stack.cli("submit", "--user", "U123", "buy", "1", "AAPL", "--wait", "--json")
    trade_id = json.loads(done.stdout)["trade_id"]
    trace_id = trade_id.replace("-", "")

    def persistence_calls() -> list[dict[str, object]]:
        spans = [s for s in read_spans(stack.spans_path) if s["trace_id"] == trace_id]
        [stage] = [s for s in spans if s["name"] == f"{stack.queue('persistence')} process"] or [None]
        if stage is None:
            return []
        return [s for s in spans if s["parent_span_id"] == stage["span_id"] and s["kind"] == "CLIENT"]

    calls = eventually(persistence_calls, timeout=20)  # by OTel's aiobotocore instrumentation
    [record] = [c for c in calls if c["name"] == "DynamoDB.TransactWriteItems"]
    assert all(c["attributes"]["db.system"] == "dynamodb" for c in calls)
    assert all(c["attributes"]["trade.id"] == trade_id for c in calls)
    tables = record["attributes"]["aws.dynamodb.table_names"]  # a transaction's tables, from our hook
    assert any(t.endswith("-trades") for t in tables) and any(t.endswith("-audit") for t in tables)


def _names(nodes: list[dict[str, Any]]) -> set[str]:
    """Every span's name in a `tradeflow trace --json` tree."""
    return {name for node in nodes for name in {node["name"], *_names(node["children"])}}
