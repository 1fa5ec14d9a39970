"""`tradeflow dlq` on real RabbitMQ, on dead letters made the way production makes them."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dramatiq
import pytest
from dramatiq.middleware import CurrentMessage

from messages.codec import to_payload
from messages.events import AnyMessage, SubmitTrade, TradeRecorded
from messages.trade import TradeRequest
from tests.fixtures_rabbitmq import QueueReader
from tests.waiting import eventually
from workers.handlers.errors import UnknownTrade
from workers.ops.dlq import (
    UnknownQueue,
    list_dead_letters,
    purge_dead_letters,
    render_list,
    render_purge,
    render_replay,
    render_show,
    replay_dead_letters,
    show_dead_letter,
)
from workers.ops.dlq_letters import UNDECODABLE, resolve_queue
from workers.rabbitmq import build_rabbitmq
from workers.settings import Settings, load_settings
from workers.store.port import StoreUnavailable

DEAD_LETTER_OPTIONS = ("dead_letter_reason", "traceback", "failures", "permanent", "dead_lettered_at", "eta")


@pytest.fixture
def settings(rabbitmq_url: str, queue_prefix: str) -> Settings:
    return load_settings(
        {
            "RABBITMQ_URL": rabbitmq_url,
            "TRADEFLOW_QUEUE_PREFIX": queue_prefix,
            "TRADEFLOW_MAX_RETRIES": "1",
            "TRADEFLOW_MIN_BACKOFF_MS": "20",
            "TRADEFLOW_MAX_BACKOFF_MS": "50",
        }
    )


@pytest.fixture
def reader(rabbitmq_url: str) -> Iterator[QueueReader]:
    reader = QueueReader(rabbitmq_url)
    yield reader
    reader.close()


class FailingStages:
    """A worker whose validation actor meets an unknown trade (permanent) and whose execution actor finds
    the store down (transient): the production middleware dead-letters both, with their stories."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rabbitmq = build_rabbitmq(settings)

        def validation(payload: Any) -> None:
            raise UnknownTrade(f"trade {payload['trade']['trade_id']} was never recorded")

        def execution(payload: Any) -> None:
            raise StoreUnavailable("throttled")

        self.actors = {
            fn.__name__: dramatiq.actor(
                actor_name=fn.__name__, queue_name=settings.queue(fn.__name__), broker=self.rabbitmq
            )(fn)
            for fn in (validation, execution)
        }
        self.worker = dramatiq.Worker(self.rabbitmq, worker_threads=2, worker_timeout=100)
        self.worker.start()
        self.running = True

    def send(self, stage: str, message: AnyMessage) -> dict[str, str]:
        """Send as the previous stage would, with the trade's trace context; return that context."""
        context = {"traceparent": f"00-{message.trade.trade_id.hex}-{secrets.token_hex(8)}-01"}
        self.actors[stage].send_with_options(args=(to_payload(message),), trace_context=context)
        return context

    def send_raw(self, reader: QueueReader, stage: str, body: bytes) -> None:
        queue = self.settings.queue(stage)
        eventually(lambda: reader.consumers(queue) >= 1)  # declared (with its XQ) and consumed
        reader.publish_raw(queue, body)

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.worker.stop()
            self.rabbitmq.close()


@pytest.fixture
def failing(settings: Settings) -> Iterator[FailingStages]:
    stages = FailingStages(settings)
    yield stages
    stages.stop()


def a_trade() -> TradeRequest:
    return TradeRequest(
        trade_id=uuid.uuid4(),
        user_id="U123",
        symbol="AAPL",
        side="buy",
        quantity=Decimal(10),
        submitted_at=datetime.now(UTC),
    )


def xq(settings: Settings, stage: str) -> str:
    return f"{settings.queue(stage)}.XQ"


def dead_letters_of(reader: QueueReader, queue: str) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in reader.peek_all(queue)]


def make_dead_letters(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> tuple[list[TradeRequest], TradeRequest]:
    """Two unknown trades and one raw body in validation's XQ, one exhausted retry in execution's."""
    unknown = [a_trade(), a_trade()]
    for trade in unknown:
        failing.send("validation", SubmitTrade(trade=trade))
    throttled = a_trade()
    failing.send("execution", TradeRecorded(trade=throttled, recorded_at=datetime.now(UTC)))
    failing.send_raw(reader, "validation", b"\xff this is not a dramatiq message")
    counts = [(xq(settings, "validation"), 3), (xq(settings, "execution"), 1)]
    eventually(lambda: all(reader.count(queue) == n for queue, n in counts))
    failing.stop()  # nothing consumes the stage queues now: a replay stays where it lands
    return unknown, throttled


def test_list_shows_counts_reasons_and_trade_ids_and_leaves_every_message_in_place(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> None:
    unknown, throttled = make_dead_letters(settings, failing, reader)
    before = reader.peek_all(xq(settings, "validation"))

    doc = list_dead_letters(settings, None)

    queues = {q["stage"]: q for q in doc["queues"]}
    assert doc["total"] == 4
    assert {stage: q["dead_letters"] for stage, q in queues.items()} == {
        "validation": 3,
        "persistence": 0,
        "execution": 1,
        "positions": 0,
        "notifications": 0,
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
    assert reader.peek_all(xq(settings, "validation")) == before
    assert list_dead_letters(settings, "validation")["queues"] == [queues["validation"]]
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


def test_replay_puts_one_message_back_with_retries_reset_and_its_trace_context_kept(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> None:
    make_dead_letters(settings, failing, reader)
    [dead] = dead_letters_of(reader, xq(settings, "execution"))

    doc = replay_dead_letters(settings, "execution", dead["message_id"], operator="OPS1")

    assert [r["message_id"] for r in doc["replayed"]] == [dead["message_id"]] and doc["operator"] == "OPS1"
    assert reader.count(xq(settings, "execution")) == 0
    [back] = dead_letters_of(reader, settings.queue("execution"))
    assert back["message_id"] == dead["message_id"] and back["args"] == dead["args"]
    assert back["queue_name"] == settings.queue("execution")
    options = back["options"]
    assert options["retries"] == 0
    assert options["trace_context"] == dead["options"]["trace_context"]
    assert not set(DEAD_LETTER_OPTIONS) & set(options)
    assert options["replayed_from"] == xq(settings, "execution") and options["replayed_by"] == "OPS1"
    assert options["replayed_at"] == doc["replayed_at_ms"]
    assert "OPS1" in render_replay(doc)

    again = replay_dead_letters(settings, "execution", dead["message_id"], operator="OPS1")
    assert not again["found"] and again["replayed"] == []
    assert reader.count(settings.queue("execution")) == 1
    assert "Nothing to replay" in render_replay(again)


def test_replay_all_replays_every_dramatiq_message_and_skips_the_raw_body(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> None:
    unknown, _ = make_dead_letters(settings, failing, reader)

    doc = replay_dead_letters(settings, "validation", None, operator="OPS1")

    assert {r["trade_id"] for r in doc["replayed"]} == {str(t.trade_id) for t in unknown}
    [skipped] = doc["skipped"]
    assert skipped["message_id"].startswith("raw-") and "not a dramatiq message" in skipped["reason"]
    assert reader.count(settings.queue("validation")) == 2
    [left] = reader.peek_all(xq(settings, "validation"))  # the raw body is kept, not lost
    assert left[1].startswith(b"\xff")
    assert reader.count(xq(settings, "execution")) == 1  # another stage's dead letters are not touched


def test_a_message_id_met_twice_in_one_replay_is_published_once(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> None:
    failing.send("validation", SubmitTrade(trade=a_trade()))
    eventually(lambda: reader.count(xq(settings, "validation")) == 1)
    failing.stop()
    # As if an earlier replay was confirmed but crashed before its ack, and the replay died again.
    [(_, body)] = reader.peek_all(xq(settings, "validation"))
    reader.publish_raw(xq(settings, "validation"), body)

    doc = replay_dead_letters(settings, "validation", None, operator="OPS1")

    assert len(doc["replayed"]) == 1 and len(doc["duplicates_removed"]) == 1
    assert reader.count(settings.queue("validation")) == 1
    assert reader.count(xq(settings, "validation")) == 0


def test_a_replay_rabbitmq_does_not_confirm_leaves_the_dead_letter_in_place(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> None:
    make_dead_letters(settings, failing, reader)
    reader.channel.queue_delete(settings.queue("execution"))  # the publish now comes back unroutable

    doc = replay_dead_letters(settings, "execution", None, operator="OPS1")

    [failed] = doc["failed"]
    assert doc["replayed"] == [] and "does not exist" in failed["error"]
    assert reader.count(xq(settings, "execution")) == 1
    assert "FAILED" in render_replay(doc)


def test_a_replayed_message_is_processed_again_in_its_trace(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> None:
    context = failing.send("validation", SubmitTrade(trade=a_trade()))
    eventually(lambda: reader.count(xq(settings, "validation")) == 1)
    failing.stop()
    replay_dead_letters(settings, "validation", None, operator="OPS1")

    healed = build_rabbitmq(settings)
    seen: list[dict[str, Any]] = []

    def validation(payload: Any) -> None:
        message = CurrentMessage.get_current_message()
        seen.append(dict(message.options) if message is not None else {})

    decorate = dramatiq.actor(actor_name="validation", queue_name=settings.queue("validation"), broker=healed)
    decorate(validation)
    worker = dramatiq.Worker(healed, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        eventually(lambda: seen)
    finally:
        worker.stop()
        healed.close()
    assert seen[0]["trace_context"] == context and seen[0]["retries"] == 0
    assert reader.count(xq(settings, "validation")) == 0


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
