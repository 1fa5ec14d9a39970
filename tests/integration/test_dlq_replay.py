"""`tradeflow dlq replay` on real RabbitMQ: a confirmed re-publish, then removal; never twice, never lost."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from messages.events import SubmitTrade
from tests.fixtures_rabbitmq import QueueReader
from tests.integration.dlq_helpers import (
    DEAD_LETTER_OPTIONS,
    FailingStages,
    a_trade,
    dead_letters_of,
    make_dead_letters,
    xq,
)
from tests.waiting import eventually
from workers.chain.rabbitmq import build_rabbitmq
from workers.console.dlq.operations import (
    render_replay,
    replay_dead_letters,
)
from workers.settings import Settings


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
