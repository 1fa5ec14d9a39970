"""A worker whose every publish is sent twice, so each stage's message is delivered twice."""

from __future__ import annotations

import threading
from typing import Any

import dramatiq

from workers.bootstrap import build_worker
from workers.settings import load_settings


class PublishTwice(dramatiq.Middleware):
    """Each message a stage publishes goes out twice: as itself, marked `twinned`, and as a copy marked
    `duplicate`. A delayed publish is twinned when it leaves its delay queue.

    A message that is already twinned or a duplicate is never copied again. Its retries, deferrals and moves
    out of a delay queue are the same message going round. Copying those too multiplied one retried trade's
    message without bound: 70 copies of one execution message in a campaign run, each then retried through
    a DynamoDB outage, 3,000 failures a minute. No broker does that.
    """

    def __init__(self) -> None:
        self._twinning = threading.local()  # the message this thread is publishing for the first time

    def before_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        options = message.options
        if delay is None and not options.get("duplicate") and not options.get("twinned"):
            options["twinned"] = True  # published with it: whatever becomes of this message is not copied
            self._twinning.message = message

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        if getattr(self._twinning, "message", None) is message:
            self._twinning.message = None
            broker.enqueue(message.copy(options={"duplicate": True}))


rabbitmq = build_worker(load_settings(), PublishTwice())
