"""A retry (or a deferral) whose publish fails is nacked into the dead-letter queue, never acked and lost.

dramatiq acks a message after its `after_process_message` hooks whatever they raise (it logs and swallows
the exception), so a re-publish that failed there, on a connection lost mid-outage, lost the message.
"""

from __future__ import annotations

from typing import Any

import pytest

from workers.chain.dead_letters import DeadLetters
from workers.handlers.errors import Deferred


class Message:
    def __init__(self) -> None:
        self.message_id, self.queue_name, self.args = "m-1", "t-validation", ()
        self.options: dict[str, Any] = {}
        self.failed = False

    def fail(self) -> None:
        self.failed = True


class ConnectionLost:
    def enqueue(self, message: Any, *, delay: int | None = None) -> None:
        raise ConnectionError("the connection to RabbitMQ was lost")


@pytest.mark.parametrize(
    "exception",
    [RuntimeError("a passing failure"), Deferred("another delivery holds it", retry_after_ms=1000)],
)
def test_a_message_that_cannot_be_put_back_is_nacked_into_its_dead_letter_queue(exception: Exception) -> None:
    message = Message()
    dead_letters = DeadLetters(max_retries=5, min_backoff_ms=10, max_backoff_ms=20)

    dead_letters.after_process_message(ConnectionLost(), message, exception=exception)  # type: ignore[arg-type]

    assert message.failed  # dramatiq nacks it (requeue=False): RabbitMQ dead-letters it into the .XQ
