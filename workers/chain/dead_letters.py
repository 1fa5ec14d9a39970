"""Dead letters: permanent failures go straight to `<queue>.XQ`, transient ones retry with backoff first.

dramatiq's own Retries middleware nacks a spent message, and RabbitMQ then dead-letters the body as it
was delivered: without this failure's reason or traceback. Here the dead letter is published explicitly
(confirmed) with `dead_letter_reason`, `traceback`, `retries` and the failure history in its options, and
only then is the original acked. If that publish fails, the original is nacked, so RabbitMQ's own
dead-lettering still keeps it: nothing is lost either way.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable
from typing import Any

import dramatiq
import pika
from dramatiq.common import xq_name

from messages.codec import MessageDecodeError
from telemetry.tracing import trade_id_of
from workers.handlers.errors import Deferred, PermanentError

MAX_HISTORY = 10


def is_permanent(exception: BaseException) -> bool:
    """Errors no retry can mend; anything unrecognised is retried a bounded number of times."""
    return isinstance(exception, PermanentError | MessageDecodeError)


class DeadLetters(dramatiq.Middleware):
    @property
    def actor_options(self) -> set[str]:
        # `throws` names what an actor raises on purpose (Deferred): dramatiq's worker logs it at INFO with
        # no traceback, and the tracing middleware does not mark the delivery's span as an error.
        return {"throws"}

    def __init__(
        self,
        *,
        max_retries: int,
        min_backoff_ms: int,
        max_backoff_ms: int,
        is_permanent: Callable[[BaseException], bool] = is_permanent,
    ) -> None:
        self.logger = dramatiq.get_logger(__name__, type(self))
        self.max_retries = max_retries
        self.min_backoff_ms = min_backoff_ms
        self.max_backoff_ms = max_backoff_ms
        self.is_permanent = is_permanent

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None:
            return
        if isinstance(exception, Deferred):
            self.logger.info(
                "Deferring message %s by %d ms: %s",
                message.message_id,
                exception.retry_after_ms,
                exception,
                extra=_log_context(message),
            )
            broker.enqueue(message, delay=exception.retry_after_ms)
            return
        retries = int(message.options.get("retries", 0))
        error = f"{type(exception).__name__}: {exception}"[:1000]
        failure = {"at_ms": int(time.time() * 1000), "error": error, "attempt": retries + 1}
        history = [*message.options.get("failures", []), failure][-MAX_HISTORY:]
        tb = "".join(traceback.format_exception(exception, limit=30))
        permanent = self.is_permanent(exception)
        if permanent or retries >= self.max_retries:
            reason = error if permanent else f"retries exhausted ({retries}): {error}"
            self._dead_letter(broker, message, reason=reason, tb=tb, history=history, permanent=permanent)
            return
        delay = self._backoff(retries)
        message.options.update(retries=retries + 1, traceback=tb, failures=history)
        self.logger.warning(
            "Retrying message %s in %d ms after %s",
            message.message_id,
            delay,
            error,
            extra=_log_context(message),
        )
        broker.enqueue(message, delay=delay)

    def _backoff(self, retries: int) -> int:
        ceiling = min(self.max_backoff_ms, self.min_backoff_ms * 2**retries)
        return int(ceiling / 2 + random.uniform(0, ceiling / 2))  # jitter, so retries don't stampede

    def _dead_letter(
        self, broker: Any, message: Any, *, reason: str, tb: str, history: list[Any], permanent: bool
    ) -> None:
        queue = message.queue_name
        dead = message._message.copy(
            options={
                "dead_letter_reason": reason,
                "traceback": tb,
                "retries": int(message.options.get("retries", 0)),
                "failures": history,
                "permanent": permanent,
                "dead_lettered_at": int(time.time() * 1000),
                "eta": None,
            }
        )
        try:
            broker.channel.basic_publish(
                exchange="",
                routing_key=xq_name(queue),
                body=dead.encode(),
                properties=pika.BasicProperties(delivery_mode=2),
                mandatory=True,
            )
        except Exception:
            self.logger.exception(
                "Could not publish dead letter for %s; nacking it instead",
                message.message_id,
                extra=_log_context(message),
            )
            message.fail()
            return
        self.logger.error(
            "Dead-lettered message %s from %s: %s",
            message.message_id,
            queue,
            reason,
            extra=_log_context(message),
        )


def _log_context(message: Any) -> dict[str, Any]:
    # Named explicitly: a garbage payload has no trade, and these hooks may run outside the trade's span.
    args = message.args
    trade_id = trade_id_of(args[0]) if isinstance(args, tuple | list) and args else None
    context = {"queue": message.queue_name, "retries": int(message.options.get("retries", 0))}
    return {**context, "trade_id": trade_id} if trade_id else context
