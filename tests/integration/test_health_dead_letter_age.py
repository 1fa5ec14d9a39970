"""`tradeflow health` on real RabbitMQ says how old each XQ's oldest dead letter is and when its TTL drops
it, raises an ALERT past TRADEFLOW_DEAD_LETTER_ALERT_AGE_S, and leaves every dead letter where it was."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pika
import pytest
from dramatiq.brokers.rabbitmq import DEAD_MESSAGE_TTL

from tests.fixtures_rabbitmq import QueueReader
from tests.integration.dlq_helpers import as_stored, xq
from tests.waiting import eventually
from workers.chain.rabbitmq import MsgspecEnvelopeEncoder, dead_letter_queue_arguments
from workers.console.checks.dead_letter_age import oldest_dead_letter
from workers.console.checks.health import Check, check_rabbitmq
from workers.console.dlq.channel import dead_letter_channel
from workers.settings import DEAD_LETTER_TTL_S, Settings, SettingsError, load_settings

NOW = datetime.now(UTC).replace(microsecond=0)


def dead_letter(dead_for: timedelta) -> bytes:
    """A dramatiq message as workers/chain/dead_letters.py dead-letters it, `dead_for` before NOW."""
    return MsgspecEnvelopeEncoder().encode(
        {
            "queue_name": "validation",
            "actor_name": "validation",
            "args": [{"type": "SubmitTrade", "trade": {"trade_id": str(uuid.uuid4())}}],
            "kwargs": {},
            "options": {
                "dead_letter_reason": "UnknownTrade: never recorded",
                "permanent": True,
                "retries": 0,
                "dead_lettered_at": int((NOW - dead_for).timestamp() * 1000),
            },
            "message_id": str(uuid.uuid4()),
            "message_timestamp": int((NOW - dead_for).timestamp() * 1000),
        }
    )


def put_dead_letters(settings: Settings, reader: QueueReader, *ages: timedelta) -> str:
    """Declare validation's XQ as the workers do (its type, dramatiq's TTL) and put letters of these ages."""
    queue = xq(settings, "validation")
    reader.channel.queue_declare(
        queue, durable=True, arguments=dead_letter_queue_arguments(settings.tradeflow_queue_type)
    )
    for age in ages:
        reader.publish_raw(queue, dead_letter(age))
    eventually(lambda: reader.count(queue) == len(ages))
    return queue


def queue_check(settings: Settings, stage: str) -> Check:
    [check] = [c for c in check_rabbitmq(settings, None, NOW) if c.name == f"queue {settings.queue(stage)}"]
    return check


def stored(reader: QueueReader, queue: str) -> Counter[str]:
    return Counter(repr(message) for message in as_stored(reader.peek_all(queue)))


def test_an_old_dead_letter_is_aged_and_alerted_and_every_letter_stays(
    settings: Settings, reader: QueueReader
) -> None:
    # The fresh one first: the oldest is found wherever it stands, not only at the head.
    queue = put_dead_letters(settings, reader, timedelta(minutes=5), timedelta(days=2))
    before = stored(reader, queue)

    check = queue_check(settings, "validation")

    assert not check.ok
    assert "2 dead (oldest 2d, expires in 5d)" in check.detail
    assert check.detail.endswith(
        "2 dead letter(s), "
        "ALERT: oldest dead letter is 2d old, expires in 5d: replay or purge it (tradeflow dlq)"
    )
    assert check.data["dead"] == 2 and check.data["dead_letters_read"] == 2
    assert check.data["oldest_dead_letter_age_s"] == 2 * 86_400
    assert check.data["dead_letter_expires_in_s"] == DEAD_MESSAGE_TTL // 1000 - 2 * 86_400 == 5 * 86_400
    assert check.data["dead_letter_alert"] is True
    # Read-only: both letters are still there, as they were (but for their count of deliveries).
    eventually(lambda: reader.count(queue) == 2)
    assert stored(reader, queue) == before
    # A queue whose XQ was never declared is read as empty.
    persistence = queue_check(settings, "persistence")
    assert "0 dead, " in persistence.detail and "ALERT" not in persistence.detail
    assert persistence.data["oldest_dead_letter_age_s"] is None
    assert persistence.data["dead_letter_expires_in_s"] is None


def test_fresh_dead_letters_are_aged_without_an_alert(settings: Settings, reader: QueueReader) -> None:
    queue = put_dead_letters(settings, reader, timedelta(minutes=10), timedelta(hours=1, minutes=30))

    check = queue_check(settings, "validation")

    assert not check.ok  # any dead letter still fails the check
    assert "2 dead (oldest 1h 30m, expires in 6d 22h)" in check.detail
    assert "ALERT" not in check.detail and check.detail.endswith("2 dead letter(s)")
    assert check.data["oldest_dead_letter_age_s"] == 5_400
    assert check.data["dead_letter_expires_in_s"] == 7 * 86_400 - 5_400
    assert check.data["dead_letter_alert"] is False
    eventually(lambda: reader.count(queue) == 2)


def test_the_alert_age_is_the_setting(settings: Settings, reader: QueueReader) -> None:
    put_dead_letters(settings, reader, timedelta(hours=1, minutes=30))
    sooner = load_settings(
        {
            "RABBITMQ_URL": settings.rabbitmq_url,
            "TRADEFLOW_QUEUE_PREFIX": settings.tradeflow_queue_prefix,
            "TRADEFLOW_DEAD_LETTER_ALERT_AGE_S": "3600",
        }
    )

    check = queue_check(sooner, "validation")

    assert "ALERT: oldest dead letter is 1h 30m old, expires in 6d 22h" in check.detail


def test_past_the_read_limit_the_oldest_is_of_the_letters_read(
    settings: Settings, reader: QueueReader
) -> None:
    queue = put_dead_letters(settings, reader, timedelta(hours=2), timedelta(hours=1), timedelta(days=3))
    now_ms = int(NOW.timestamp() * 1000)

    with dead_letter_channel(settings) as channel:
        oldest = oldest_dead_letter(channel, queue, now_ms, limit=2)

    assert (oldest.read, oldest.age_s) == (2, 7_200)
    eventually(lambda: reader.count(queue) == 3)


def test_a_dead_letter_without_a_time_is_counted_not_aged(settings: Settings, reader: QueueReader) -> None:
    queue = put_dead_letters(settings, reader)
    reader.channel.basic_publish("", queue, b"\xff not a dramatiq message", pika.BasicProperties())
    eventually(lambda: reader.count(queue) == 1)

    check = queue_check(settings, "validation")

    assert "1 dead (oldest: no time on the 1 read)" in check.detail and "ALERT" not in check.detail
    assert check.data["oldest_dead_letter_age_s"] is None
    eventually(lambda: reader.count(queue) == 1)


@pytest.mark.parametrize("value", ["0", "-1", str(DEAD_LETTER_TTL_S), "1e9"])
def test_an_alert_age_not_under_the_ttl_is_refused(value: str) -> None:
    assert DEAD_LETTER_TTL_S * 1000 == DEAD_MESSAGE_TTL  # settings' copy of dramatiq's TTL
    with pytest.raises(SettingsError, match="TRADEFLOW_DEAD_LETTER_ALERT_AGE_S"):
        load_settings({"TRADEFLOW_DEAD_LETTER_ALERT_AGE_S": value})
