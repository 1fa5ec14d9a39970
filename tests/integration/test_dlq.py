"""The dead-letter tool on real RabbitMQ: list, show, purge, and queue names."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures_rabbitmq import QueueReader
from tests.integration.dlq_helpers import (
    FailingStages,
    as_stored,
    dead_letters_of,
    make_dead_letters,
    xq,
)
from workers.console.dlq.letters import UNDECODABLE, resolve_queue
from workers.console.dlq.operations import (
    UnknownQueue,
    list_dead_letters,
    purge_dead_letters,
    render_list,
    render_purge,
    render_show,
    show_dead_letter,
)
from workers.settings import Settings


def test_list_shows_counts_reasons_and_trade_ids_and_leaves_every_message_in_place(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> None:
    unknown, throttled = make_dead_letters(settings, failing, reader)
    before = as_stored(reader.peek_all(xq(settings, "validation")))

    doc = list_dead_letters(settings, None)

    queues = {q["stage"]: q for q in doc["queues"]}
    assert doc["total"] == 4
    assert {stage: q["dead_letters"] for stage, q in queues.items()} == {
        "validation": 3,
        "persistence": 0,
        "execution": 1,
        "positions": 0,
        "notifications": 0,
        "sweeper": 0,
        "alerts": 0,
    }
    assert not queues["persistence"]["exists"] and queues["execution"]["delayed"] == 0
    validation = queues["validation"]["messages"]
    assert {m["trade_id"] for m in validation} == {str(t.trade_id) for t in unknown} | {None}
    for line in validation:
        assert line["age_s"] is not None and line["age_s"] >= 0
        if line["trade_id"] is None:
            assert line["message_id"].startswith("raw-") and line["reason"] == UNDECODABLE
            assert line["retries"] is None and not line["replayable"]
        else:
            assert line["reason"].startswith("UnknownTrade: trade ") and line["permanent"] is True
            assert line["message_type"] == "SubmitTrade" and line["retries"] == 0
    [execution] = queues["execution"]["messages"]
    assert execution["trade_id"] == str(throttled.trade_id) and execution["retries"] == 1
    assert execution["reason"] == "retries exhausted (1): StoreUnavailable: throttled"

    # Nothing moved: the same messages, in the same order, and a second look sees the same lines.
    assert as_stored(reader.peek_all(xq(settings, "validation"))) == before
    # The same lines, but for their age, which a second later has grown.
    assert _ageless(list_dead_letters(settings, "validation")["queues"]) == _ageless([queues["validation"]])
    json.dumps(doc)
    assert all(m["message_id"] in render_list(doc) for m in validation)


def test_show_gives_the_payload_traceback_history_and_x_death(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> None:
    _, throttled = make_dead_letters(settings, failing, reader)
    [dead] = dead_letters_of(reader, xq(settings, "execution"))

    doc = show_dead_letter(settings, f"{settings.queue('execution')}.XQ", dead["message_id"])

    assert doc["found"] and doc["trade_id"] == str(throttled.trade_id)
    assert doc["payload"]["type"] == "TradeRecorded"
    assert "StoreUnavailable: throttled" in doc["traceback"]
    assert [f["attempt"] for f in doc["failures"]] == [1, 2] and doc["retries"] == 1
    assert "trace_context" in doc["options"] and doc["x_death"] is None
    assert "StoreUnavailable" in render_show(doc)

    [listing] = list_dead_letters(settings, "validation")["queues"]
    raw_id = next(m["message_id"] for m in listing["messages"] if m["trade_id"] is None)
    raw = show_dead_letter(settings, "validation", raw_id)
    assert raw["found"] and raw["body_encoding"] == "base64" and raw["reason"] == UNDECODABLE
    assert raw["x_death"][0]["reason"] == "rejected"
    assert raw["x_death"][0]["queue"] == settings.queue("validation")
    json.dumps(raw)

    assert not show_dead_letter(settings, "execution", "no-such-id")["found"]
    assert reader.count(xq(settings, "execution")) == 1 and reader.count(xq(settings, "validation")) == 3


def test_purge_asks_refuses_on_no_and_purges_only_the_xq_on_yes(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> None:
    make_dead_letters(settings, failing, reader)
    reader.publish_raw(settings.queue("validation"), b"waiting for a worker")
    asked: list[int] = []

    def answer(yes: bool) -> Callable[[int], bool]:
        def confirm(count: int) -> bool:
            asked.append(count)
            return yes

        return confirm

    refused = purge_dead_letters(settings, "validation", confirm=answer(False))
    assert asked == [3] and not refused["confirmed"] and refused["purged"] == 0
    assert reader.count(xq(settings, "validation")) == 3
    assert "Not purged" in render_purge(refused)

    purged = purge_dead_letters(settings, "validation.XQ", confirm=answer(True))
    assert asked == [3, 3] and purged["confirmed"] and purged["purged"] == 3
    assert reader.count(xq(settings, "validation")) == 0
    assert reader.count(settings.queue("validation")) == 1  # the stage queue is untouched
    assert reader.count(xq(settings, "execution")) == 1  # and so is every other stage's XQ

    empty = purge_dead_letters(settings, "validation", confirm=answer(True))
    assert asked == [3, 3] and empty["count"] == 0  # nothing to purge: nobody is asked


def test_a_queue_is_named_by_stage_with_or_without_prefix_and_xq_suffix(settings: Settings) -> None:
    prefixed = settings.queue("execution")
    for name in ("execution", "execution.XQ", prefixed, f"{prefixed}.XQ"):
        assert resolve_queue(settings, name).dead_letter_queue == f"{prefixed}.XQ"
    for name in ("execution.DQ", "nope", "nope.XQ"):
        with pytest.raises(UnknownQueue):
            resolve_queue(settings, name)


def _ageless(queues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**q, "messages": [{k: v for k, v in m.items() if k != "age_s"} for m in q["messages"]]}
        for q in queues
    ]
