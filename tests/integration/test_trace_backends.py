"""`tradeflow trace` reads the same trade's trace from Jaeger and from Phoenix as from the span file.

The spans are really exported over OTLP; Jaeger and Phoenix are loopback servers answering in their own
JSON (see trace_query_servers.py for the sources of each shape).
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.trace_query_servers import (
    Record,
    export_a_trade,
    jaeger_query_server,
    phoenix_rest_server,
)
from workers.console import main as cli
from workers.console.stack.up import traces_upstream
from workers.console.traces import TraceBackendError, open_backend
from workers.console.traces.file import SpanFileBackend
from workers.console.traces.jaeger import JaegerBackend
from workers.console.traces.phoenix import PhoenixBackend, phoenix_answers
from workers.console.traces.tree import NO_UI, render_trace, trace_document
from workers.settings import load_settings

Trade = tuple[uuid.UUID, list[Record], Path]


@pytest.fixture(scope="module")
def trade(tmp_path_factory: pytest.TempPathFactory) -> Trade:
    out = tmp_path_factory.mktemp("trace")
    trade_id, records = export_a_trade(out)
    return trade_id, records, out / "spans.jsonl"


@pytest.fixture(scope="module")
def jaeger(trade: Trade) -> Iterator[str]:
    with jaeger_query_server(trade[1]) as url:
        yield url


@pytest.fixture(scope="module")
def phoenix(trade: Trade) -> Iterator[str]:
    with phoenix_rest_server(trade[1]) as url:
        yield url


def shape(node: dict[str, Any], *, with_service: bool = True) -> tuple[Any, ...]:
    """What a tree shows but its times: names, services, kinds, statuses, errors, retries, nesting."""
    own = (node["name"], node["status"], node["error"], node["retries"])
    if with_service:
        own += (node["service"], node["kind"])
    return (*own, [shape(child, with_service=with_service) for child in node["children"]])


# One rounding step of the printed figures (0.1 ms), and the float error of a difference of two of them:
# 5.7 - 5.6 is 0.10000000000000053, which `abs=0.1` refused on a CI run.
ROUNDING_STEP_MS = 0.1 + 1e-9


def durations(node: dict[str, Any]) -> list[float]:
    return [node["duration_ms"], node["offset_ms"], *(d for c in node["children"] for d in durations(c))]


def test_the_exported_trade_is_one_tree_with_a_failed_attempt_and_its_retry(trade: Trade) -> None:
    trade_id, records, spans_path = trade
    doc = trace_document(SpanFileBackend(spans_path), trade_id)
    [root] = doc["tree"]
    assert doc["spans"] == len(records) == 6 and doc["errors"] == 1
    [validation] = root["children"]
    attempts = [c for c in validation["children"] if c["name"] == "execution process"]
    assert [(a["status"], a["retries"]) for a in attempts] == [("ERROR", None), ("UNSET", 1)]
    assert attempts[0]["error"] == "TimeoutError: Alpaca did not answer in 10 s"
    assert {root["service"], validation["service"]} == {"tradeflow-cli", "tradeflow-worker"}


def test_jaeger_gives_the_tree_the_span_file_gives(trade: Trade, jaeger: str) -> None:
    trade_id, _, spans_path = trade
    from_file = trace_document(SpanFileBackend(spans_path), trade_id)
    from_jaeger = trace_document(JaegerBackend(jaeger), trade_id)
    assert [shape(n) for n in from_jaeger["tree"]] == [shape(n) for n in from_file["tree"]]
    assert (from_jaeger["spans"], from_jaeger["errors"]) == (from_file["spans"], from_file["errors"])
    # Jaeger keeps microseconds: every figure stays within a rounding step of the file's
    assert durations(from_jaeger["tree"][0]) == pytest.approx(
        durations(from_file["tree"][0]), abs=ROUNDING_STEP_MS
    )
    assert from_jaeger["ui"] == f"{jaeger}/trace/{trade_id.hex}"


def test_jaeger_not_holding_the_trace_is_no_spans(jaeger: str) -> None:
    missing = uuid.uuid4()
    doc = trace_document(JaegerBackend(jaeger), missing)
    assert doc["spans"] == 0 and doc["tree"] == [] and doc["ui"] == f"{jaeger}/trace/{missing.hex}"


def test_phoenix_gives_the_tree_but_services_and_kinds_which_it_does_not_keep(
    trade: Trade, phoenix: str
) -> None:
    trade_id, _, spans_path = trade
    from_file = trace_document(SpanFileBackend(spans_path), trade_id)
    from_phoenix = trace_document(PhoenixBackend(phoenix), trade_id)
    assert [shape(n, with_service=False) for n in from_phoenix["tree"]] == [
        shape(n, with_service=False) for n in from_file["tree"]
    ]
    assert durations(from_phoenix["tree"][0]) == pytest.approx(
        durations(from_file["tree"][0]), abs=ROUNDING_STEP_MS
    )
    assert from_phoenix["tree"][0]["service"] is None and from_phoenix["tree"][0]["kind"] is None
    assert from_phoenix["ui"] == f"{phoenix}/redirects/traces/{trade_id.hex}"


def test_phoenix_pages_are_followed_to_the_last(trade: Trade, phoenix: str) -> None:
    trade_id, records, _ = trade
    spans = PhoenixBackend(phoenix, page_size=4).spans(trade_id.hex)
    assert sorted(s.span_id for s in spans) == sorted(r["span_id"] for r in records)


def test_a_phoenix_project_that_does_not_exist_is_a_backend_error(trade: Trade, phoenix: str) -> None:
    with pytest.raises(TraceBackendError, match="HTTP 404 Project with name tradeflow not found"):
        PhoenixBackend(phoenix, project="tradeflow").spans(trade[0].hex)


def test_a_backend_that_is_down_is_a_backend_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for backend in (JaegerBackend(url), PhoenixBackend(url)):
        with pytest.raises(TraceBackendError, match=f"GET {url}/"):
            backend.spans(uuid.uuid4().hex)


def test_tradeflow_trace_prints_the_tree_from_jaeger_and_ends_with_its_link(
    trade: Trade, jaeger: str, capsys: pytest.CaptureFixture[str]
) -> None:
    trade_id = trade[0]
    assert cli.main(["trace", str(trade_id), "--backend", "jaeger", "--url", jaeger]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"Trace {trade_id.hex} (trade {trade_id}): 6 spans,")
    assert any("✗ execution process  [tradeflow-worker]" in line for line in lines)
    assert any("✓ execution process (retry 1)  [tradeflow-worker]" in line for line in lines)
    assert lines[-1] == f"UI: {jaeger}/trace/{trade_id.hex}"


def test_tradeflow_trace_reads_phoenix_when_the_settings_say_so(
    trade: Trade, phoenix: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEFLOW_TRACES_BACKEND", "phoenix")
    monkeypatch.setenv("TRADEFLOW_TRACES_QUERY_URL", phoenix)
    assert cli.main(["trace", str(trade[0]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["spans"] == 6 and doc["source"] == f"{phoenix} (project default)"
    assert doc["ui"] == f"{phoenix}/redirects/traces/{trade[0].hex}"


def test_tradeflow_trace_fails_and_says_why_when_the_backend_is_down(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert cli.main(["trace", str(uuid.uuid4()), "--backend", "phoenix", "--url", url]) == 1
    assert capsys.readouterr().err.startswith(f"tradeflow trace: GET {url}/v1/projects/default/spans")


def test_the_file_backend_has_no_ui_and_says_how_to_get_one(trade: Trade) -> None:
    doc = trace_document(open_backend("file", url=None, spans_path=trade[2]), trade[0])
    assert doc["ui"] is None
    assert render_trace(doc).splitlines()[-1] == f"UI: {NO_UI}"


def test_up_forwards_to_phoenix_when_it_is_the_backend(phoenix: str, jaeger: str) -> None:
    as_backend = load_settings({"TRADEFLOW_TRACES_BACKEND": "phoenix", "TRADEFLOW_TRACES_QUERY_URL": phoenix})
    assert traces_upstream(as_backend) == f"{phoenix}/v1/traces"
    assert traces_upstream(load_settings({"TRADEFLOW_TRACES_BACKEND": "jaeger"})) is None
    # `up` looks for a running Phoenix by its version route, not by an open port
    assert phoenix_answers(phoenix) and not phoenix_answers(jaeger)
