"""A worker whose every publish is sent twice, so each stage's message is delivered twice."""

from __future__ import annotations

from typing import Any

import dramatiq

from workers.bootstrap import build_worker
from workers.settings import load_settings


class PublishTwice(dramatiq.Middleware):
    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        if delay is None and not message.options.get("duplicate"):
            broker.enqueue(message.copy(options={"duplicate": True}))


rabbitmq = build_worker(load_settings(), PublishTwice())
