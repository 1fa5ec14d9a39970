"""`tradeflow dlq list|show|replay|purge`: read, replay and purge the stages' dead letters on RabbitMQ.

Each command opens one RabbitMQ connection and returns a JSON-ready dict (`--json` prints it); the
`render_*` functions turn it into lines for people. Reading never removes a message (dlq_channel says how
order survives); a replay acks a dead letter only after RabbitMQ confirmed its publish to the stage queue,
so a crash in between leaves it both replayed and still dead-lettered, which is harmless because every
stage is idempotent by trade id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from telemetry.redaction import secrets_of
from workers.chain.routing import QUEUE_NAMES
from workers.console.dlq.channel import DeadLetterChannel, PublishRefused, dead_letter_channel
from workers.console.dlq.letters import (
    NOT_REPLAYABLE,
    DeadLetter,
    DlqError,
    StageQueues,
    UnknownQueue,
    resolve_queue,
    stage_queues,
)
from workers.console.dlq.render import redact_document, render_list, render_purge, render_replay, render_show
from workers.settings import Settings

LIST_LIMIT = 1000  # lines per queue; the counts are always whole


def list_dead_letters(settings: Settings, queue: str | None, *, limit: int = LIST_LIMIT) -> dict[str, Any]:
    """Count every stage's dead letters (or one stage's) and describe each, leaving all of them in place."""
    stages = [resolve_queue(settings, queue)] if queue else [stage_queues(settings, s) for s in QUEUE_NAMES]
    now = _now_ms()
    with dead_letter_channel(settings) as rabbitmq:
        queues = [_queue_listing(rabbitmq, stage, now, limit) for stage in stages]
    doc = {"queues": queues, "total": sum(q["dead_letters"] for q in queues)}
    return redact_document(doc, secrets_of(settings))  # a reason may quote a token


def _queue_listing(rabbitmq: DeadLetterChannel, stage: StageQueues, now: int, limit: int) -> dict[str, Any]:
    depth = rabbitmq.depth(stage.dead_letter_queue)
    doc: dict[str, Any] = {
        "stage": stage.stage,
        "queue": stage.dead_letter_queue,
        "exists": depth is not None,
        "dead_letters": depth or 0,
        "delayed": rabbitmq.depth(stage.delay_queue) or 0,
        "waiting": rabbitmq.depth(stage.queue) or 0,
        "messages": [],
    }
    if depth:
        with rabbitmq.hold(stage.dead_letter_queue, limit) as held:
            doc["messages"] = [DeadLetter.read(d.properties, d.body).summary(now) for d in held]
    return doc


def show_dead_letter(settings: Settings, queue: str, message_id: str) -> dict[str, Any]:
    """Return one dead letter in full: payload, reason, traceback, failure history, x-death; it stays put."""
    stage = resolve_queue(settings, queue)
    now = _now_ms()
    with dead_letter_channel(settings) as rabbitmq, rabbitmq.hold(stage.dead_letter_queue) as held:
        for delivery in held:
            letter = DeadLetter.read(delivery.properties, delivery.body)
            if letter.message_id == message_id:
                doc = {"queue": stage.dead_letter_queue, "found": True, **letter.detail(now)}
                return redact_document(doc, secrets_of(settings))  # the body or traceback may hold a token
    return {"queue": stage.dead_letter_queue, "found": False, "message_id": message_id}


def replay_dead_letters(
    settings: Settings, queue: str, message_id: str | None, *, operator: str
) -> dict[str, Any]:
    """Put dead letters back on their stage queue (one by message id, or all when it is None).

    Each goes back as its stage first saw it (retries 0, the dead-letter options dropped, its trace context
    kept so it rejoins the trade's trace, plus `replayed_at`, `replayed_from` and `replayed_by`), and is
    removed from the XQ only once RabbitMQ confirmed that publish. A message id met again in the same run
    is not published twice: the later copy is removed as a duplicate. A body that is not a dramatiq
    message cannot be replayed; it is reported as skipped and stays in the XQ.
    """
    stage = resolve_queue(settings, queue)
    now = _now_ms()
    doc: dict[str, Any] = {
        "queue": stage.dead_letter_queue,
        "stage_queue": stage.queue,
        "message_id": message_id,
        "operator": operator,
        "replayed_at_ms": now,
        "replayed": [],
        "duplicates_removed": [],
        "skipped": [],
        "failed": [],
    }
    replayed: set[str] = set()
    with dead_letter_channel(settings) as rabbitmq, rabbitmq.hold(stage.dead_letter_queue) as held:
        for delivery in held:
            letter = DeadLetter.read(delivery.properties, delivery.body)
            if message_id is not None and letter.message_id != message_id:
                continue
            entry = {"message_id": letter.message_id, "trade_id": letter.trade_id}
            if letter.envelope is None:
                doc["skipped"].append({**entry, "reason": NOT_REPLAYABLE})
                continue
            if letter.message_id in replayed:
                held.remove(delivery)
                doc["duplicates_removed"].append(entry)
                continue
            body = letter.replay_body(
                stage.queue, replayed_from=stage.dead_letter_queue, at_ms=now, operator=operator
            )
            priority = letter.options.get("broker_priority")
            try:
                rabbitmq.publish(stage.queue, body, priority=priority if isinstance(priority, int) else None)
            except PublishRefused as exc:
                doc["failed"].append({**entry, "error": str(exc)})
                continue
            held.remove(delivery)  # only now: the replay is durable on the stage queue
            replayed.add(letter.message_id)
            doc["replayed"].append({**entry, "message_type": letter.message_type, "reason": letter.reason})
    doc["found"] = any(doc[key] for key in ("replayed", "duplicates_removed", "skipped", "failed"))
    return redact_document(doc, secrets_of(settings))  # only what is shown: the replayed bodies are intact


def purge_dead_letters(settings: Settings, queue: str, *, confirm: Callable[[int], bool]) -> dict[str, Any]:
    """Delete a stage's dead letters once `confirm(count)` agrees; only the XQ is touched.

    Exactly the `count` oldest dead letters the operator agreed to are removed (taken and acked, not
    `queue.purge`), so one that arrives while the prompt waits is not destroyed unseen.
    """
    stage = resolve_queue(settings, queue)
    with dead_letter_channel(settings) as rabbitmq:
        count = rabbitmq.depth(stage.dead_letter_queue) or 0
        doc: dict[str, Any] = {"queue": stage.dead_letter_queue, "count": count, "confirmed": None}
        doc["purged"] = 0
        if count == 0:
            return doc
        doc["confirmed"] = bool(confirm(count))
        if not doc["confirmed"]:
            return doc
        with rabbitmq.hold(stage.dead_letter_queue, limit=count) as held:
            last = None
            for delivery in held:
                doc["purged"], last = doc["purged"] + 1, delivery
            if last is not None:
                held.remove_through(last)  # one ack for them all
        doc["remaining"] = rabbitmq.depth(stage.dead_letter_queue) or 0
    return doc


def _now_ms() -> int:
    return int(time.time() * 1000)


__all__ = [
    "DlqError",
    "UnknownQueue",
    "list_dead_letters",
    "purge_dead_letters",
    "render_list",
    "render_purge",
    "render_replay",
    "render_show",
    "replay_dead_letters",
    "show_dead_letter",
]
