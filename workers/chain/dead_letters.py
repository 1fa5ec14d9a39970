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
from datetime import UTC, datetime
from typing import Any

import dramatiq
import pika
from dramatiq.common import xq_name

from messages.alerts import SendAlert, alert_id_of
from messages.codec import MessageDecodeError, from_payload
from messages.events import CancelOrder, CancelRefused, SubmitTrade, TradeHeld, TradeValidated
from telemetry.tracing import trade_id_of
from workers.chain.sending import publish
from workers.handlers.errors import Deferred, PermanentError
from workers.store.port import StoreUnavailable

MAX_HISTORY = 10


def is_permanent(exception: BaseException) -> bool:
    """Errors no retry can mend; anything unrecognised is retried a bounded number of times."""
    return isinstance(exception, PermanentError | MessageDecodeError)


def is_store_outage(exception: BaseException) -> bool:
    """The store could not be reached or throttled: worth waiting out for minutes, not seconds."""
    return isinstance(exception, StoreUnavailable)


# A trade is recorded by the persistence stage: a message before it has no record a sweeper could find.
NOT_YET_RECORDED = frozenset({"SubmitTrade", "TradeValidated"})


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
        is_outage: Callable[[BaseException], bool] = is_store_outage,
        outage_budget_ms: int = 0,
        held_notice_after_ms: int = 5_000,
        queue_of: Callable[[str], str] | None = None,
    ) -> None:
        """`outage_budget_ms`: how long an outage (`is_outage`) is retried, from the message's first failure,
        whatever `max_retries` says. `queue_of` (Settings.queue) lets a trader whose trade is held before it
        was recorded be told: delayed once the outage passes `held_notice_after_ms`, not executed when it is
        dead-lettered; None tells nobody (tests of the mechanism alone)."""
        self.logger = dramatiq.get_logger(__name__, type(self))
        self.max_retries = max_retries
        self.min_backoff_ms = min_backoff_ms
        self.max_backoff_ms = max_backoff_ms
        self.is_permanent = is_permanent
        self.is_outage = is_outage
        self.outage_budget_ms = outage_budget_ms
        self.held_notice_after_ms = held_notice_after_ms
        self.queue_of = queue_of

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
            self._enqueue_again(broker, message, exception.retry_after_ms)
            return
        retries = int(message.options.get("retries", 0))
        now_ms = int(time.time() * 1000)
        first_failed_at_ms = int(message.options.get("first_failed_at_ms") or now_ms)
        error = f"{type(exception).__name__}: {exception}"[:1000]
        failure = {"at_ms": now_ms, "error": error, "attempt": retries + 1}
        history = [*message.options.get("failures", []), failure][-MAX_HISTORY:]
        tb = "".join(traceback.format_exception(exception, limit=30))
        permanent = self.is_permanent(exception)
        outage = not permanent and self.is_outage(exception)
        waited_ms = now_ms - first_failed_at_ms
        within_budget = outage and waited_ms < self.outage_budget_ms
        if permanent or (retries >= self.max_retries and not within_budget):
            if permanent:
                reason = error
            elif outage and self.outage_budget_ms:
                reason = (
                    f"store outage outlasted its budget ({waited_ms // 1000} s, {retries} retries): {error}"
                )
            else:
                reason = f"retries exhausted ({retries}): {error}"
            self._dead_letter(broker, message, reason=reason, tb=tb, history=history, permanent=permanent)
            self._tell_held(broker, message, "not_executed", reason)
            self._tell_cancel_not_sent(broker, message, reason)
            self._alert(broker, message, reason)
            return
        delay = self._backoff(retries)
        if outage and waited_ms >= self.held_notice_after_ms and not message.options.get("held_told"):
            self._tell_held(broker, message, "delayed", error)
            message.options["held_told"] = True
        message.options.update(
            retries=retries + 1, traceback=tb, failures=history, first_failed_at_ms=first_failed_at_ms
        )
        self.logger.warning(
            "Retrying message %s in %d ms after %s",
            message.message_id,
            delay,
            error,
            extra=_log_context(message),
        )
        self._enqueue_again(broker, message, delay)

    def _enqueue_again(self, broker: Any, message: Any, delay: int) -> None:
        """Put the message back for later; if that publish fails, nack the original into the XQ.

        dramatiq calls this after the message was processed and acks it afterwards whatever happens here
        (an exception in after_process_message is logged and swallowed): a retry whose publish failed (the
        connection lost mid-outage) would be acked and lost. Failed, it is nacked to its dead-letter queue,
        where an operator sees it and replays it.
        """
        self._publish_or_nack(message, "put back for later", lambda: broker.enqueue(message, delay=delay))

    def _publish_or_nack(self, message: Any, what: str, publish: Callable[[], object]) -> bool:
        """Run `publish`; if it fails, mark the message failed, so dramatiq nacks it into its XQ."""
        try:
            publish()
        except Exception:
            self.logger.exception(
                "Could not %s message %s: nacking it into its dead-letter queue instead",
                what,
                message.message_id,
                extra=_log_context(message),
            )
            message.fail()
            return False
        return True

    def _tell_held(self, broker: Any, message: Any, state: str, reason: str) -> None:
        """Tell the trader of a trade held before it was recorded: no record exists that would tell them."""
        if self.queue_of is None:
            return
        args = message.args
        payload = args[0] if isinstance(args, tuple | list) and args else None
        if not isinstance(payload, dict) or payload.get("type") not in NOT_YET_RECORDED:
            return
        try:
            held = from_payload(payload)
        except MessageDecodeError:
            return  # a body that is not a trade names no trader to tell
        if not isinstance(held, SubmitTrade | TradeValidated):
            return
        notice = TradeHeld(
            trade=held.trade,
            state="delayed" if state == "delayed" else "not_executed",
            reason=reason[:500],
            stage=message.queue_name,
            held_at=datetime.now(UTC),
        )
        try:
            publish(broker, self.queue_of, notice)
        except Exception:  # the trade's own fate is settled above; this notice is best effort
            self.logger.exception("Could not queue the %s notice for %s", state, message.message_id)

    def _alert(self, broker: Any, message: Any, reason: str) -> None:
        """Alert the desk (email, SMS) that a dead letter waits for an operator; never for an alert's own."""
        args = message.args
        payload = args[0] if isinstance(args, tuple | list) and args else None
        if self.queue_of is None or (isinstance(payload, dict) and payload.get("type") == "SendAlert"):
            return
        kind = payload.get("type") if isinstance(payload, dict) else None
        trade_id = trade_id_of(payload) if isinstance(payload, dict) else None
        alert = SendAlert(
            alert_id=alert_id_of("dead_letters", f"{message.queue_name}#{message.message_id}"),
            kind="dead_letters",
            subject=f"tradeflow: a dead letter waits in {message.queue_name}",
            body=f"Message {message.message_id} ({kind or 'unreadable'}"
            + (f", trade {trade_id}" if trade_id else "")
            + f") was dead-lettered: {reason[:500]}. Inspect it with `tradeflow dlq list` and replay it "
            "with `tradeflow dlq replay` once its cause is fixed.",
            at=datetime.now(UTC),
        )
        try:
            publish(broker, self.queue_of, alert)
        except Exception:  # the letter itself is safe in its XQ; `tradeflow health` still reports it
            self.logger.exception("Could not queue the dead-letter alert for %s", message.message_id)

    def _tell_cancel_not_sent(self, broker: Any, message: Any, reason: str) -> None:
        """A cancel dead-lettered before Alpaca took it: its order may still be working, and the trader who
        pressed Cancel is told so (an operator's replay, or another press, sends it again)."""
        args = message.args
        payload = args[0] if isinstance(args, tuple | list) and args else None
        if self.queue_of is None or not isinstance(payload, dict) or payload.get("type") != "CancelOrder":
            return
        try:
            cancel = from_payload(payload)
        except MessageDecodeError:
            return
        if not isinstance(cancel, CancelOrder):
            return
        notice = CancelRefused(
            trade=cancel.trade,
            command_id=cancel.command_id,
            requested_by=cancel.requested_by,
            code="CANCEL_NOT_SENT",
            message="Your cancel could not be sent to Alpaca, so the order may still be working: press "
            f"Cancel again in a moment, or ask an operator to replay it ({reason[:200]})",
        )
        try:
            publish(broker, self.queue_of, notice)
        except Exception:  # best effort, as the held notice: the dead letter is the record
            self.logger.exception("Could not queue the cancel-not-sent notice for %s", message.message_id)

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
        published = self._publish_or_nack(
            message,
            "publish the dead letter of",
            lambda: broker.channel.basic_publish(
                exchange="",
                routing_key=xq_name(queue),
                body=dead.encode(),
                properties=pika.BasicProperties(delivery_mode=2),
                mandatory=True,
            ),
        )
        if not published:
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
