"""One dead letter as an operator sees it: which queue it is in, what it carries, why it died, its replay."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
from dramatiq.errors import DecodeError

from workers.chain.rabbitmq import MsgspecEnvelopeEncoder
from workers.chain.routing import QUEUE_NAMES
from workers.settings import Settings

# What workers/chain/dead_letters.py adds to a failed message's options; a replay starts clean without them.
DEAD_LETTER_OPTIONS = (
    "dead_letter_reason",
    "traceback",
    "failures",
    "permanent",
    "dead_lettered_at",
    "eta",
    "first_failed_at_ms",  # a replay's outage budget starts afresh
    "held_told",  # and a replay held again tells the trader again
)
UNDECODABLE = "undecodable body (rejected by the consumer)"
NOT_REPLAYABLE = "not a dramatiq message: there is nothing to replay (inspect it with `dlq show`)"

_encoder = MsgspecEnvelopeEncoder()


class DlqError(Exception):
    """The dead-letter command cannot run; the message says why, for the operator."""


class UnknownQueue(DlqError):
    """The queue argument names no stage."""


@dataclass(frozen=True)
class StageQueues:
    stage: str
    queue: str  # where the stage's actor consumes, and where a replay goes
    delay_queue: str
    dead_letter_queue: str


def stage_queues(settings: Settings, stage: str) -> StageQueues:
    queue = settings.queue(stage)
    return StageQueues(stage, queue, f"{queue}.DQ", f"{queue}.XQ")


def resolve_queue(settings: Settings, name: str) -> StageQueues:
    """Map `validation`, `validation.XQ` or their prefixed names to the stage's queues."""
    bare = name.removesuffix(".XQ")
    prefix = settings.tradeflow_queue_prefix
    stage = bare.removeprefix(prefix) if prefix and bare.startswith(prefix) else bare
    if stage not in QUEUE_NAMES:
        raise UnknownQueue(f"no stage queue {name!r} (stages: {', '.join(QUEUE_NAMES)}, or their .XQ)")
    return stage_queues(settings, stage)


class _Envelope(msgspec.Struct):
    """The fields every dramatiq message has; used only to tell a dramatiq message from a raw body."""

    queue_name: str
    actor_name: str
    args: list[Any]
    kwargs: dict[str, Any]
    options: dict[str, Any]
    message_id: str
    message_timestamp: int


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: bytes
    envelope: dict[str, Any] | None  # None: a body that is not a dramatiq message (RabbitMQ dead-lettered it)
    x_death: list[dict[str, Any]]

    @classmethod
    def read(cls, properties: Any, body: bytes) -> DeadLetter:
        headers = (properties.headers if properties is not None else None) or {}
        x_death = [_plain(entry) for entry in headers.get("x-death") or [] if isinstance(entry, dict)]
        envelope = _envelope(body)
        if envelope is not None:
            return cls(envelope["message_id"], body, envelope, x_death)
        return cls(_synthetic_id(properties, body), body, None, x_death)

    @property
    def options(self) -> dict[str, Any]:
        return self.envelope["options"] if self.envelope is not None else {}

    @property
    def payload(self) -> Any:
        args = self.envelope["args"] if self.envelope is not None else []
        return args[0] if len(args) == 1 else args

    @property
    def trade_id(self) -> str | None:
        trade = self.payload.get("trade") if isinstance(self.payload, dict) else None
        trade_id = trade.get("trade_id") if isinstance(trade, dict) else None
        return trade_id if isinstance(trade_id, str) else None

    @property
    def message_type(self) -> str | None:
        kind = self.payload.get("type") if isinstance(self.payload, dict) else None
        return kind if isinstance(kind, str) else None

    @property
    def reason(self) -> str:
        reason = self.options.get("dead_letter_reason")
        if isinstance(reason, str):
            return reason
        if not self.x_death:
            return "no reason recorded"
        death = self.x_death[0]  # RabbitMQ puts the latest death first
        if death.get("reason") == "rejected":
            return UNDECODABLE if self.envelope is None else "rejected by the consumer (no reason recorded)"
        return f"{death.get('reason')} in {death.get('queue')}"

    @property
    def retries(self) -> int | None:
        retries = self.options.get("retries", 0)
        return retries if self.envelope is not None and isinstance(retries, int) else None

    @property
    def dead_lettered_at_ms(self) -> int | None:
        at = self.options.get("dead_lettered_at")
        if isinstance(at, int):
            return at
        time = self.x_death[0].get("time") if self.x_death else None
        return _millis(time) if isinstance(time, str) else None

    def summary(self, now_ms: int) -> dict[str, Any]:
        at = self.dead_lettered_at_ms
        return {
            "message_id": self.message_id,
            "trade_id": self.trade_id,
            "message_type": self.message_type,
            "actor": self.envelope["actor_name"] if self.envelope is not None else None,
            "reason": self.reason,
            "retries": self.retries,
            "permanent": self.options.get("permanent"),
            "dead_lettered_at": _iso(at),
            "age_s": max(0, (now_ms - at) // 1000) if at is not None else None,
            "replayable": self.envelope is not None,
        }

    def detail(self, now_ms: int) -> dict[str, Any]:
        shown = {*DEAD_LETTER_OPTIONS, "retries"}
        doc = {
            **self.summary(now_ms),
            "traceback": self.options.get("traceback"),
            "failures": [
                {**f, "at": _iso(f.get("at_ms"))} if isinstance(f, dict) else f
                for f in self.options.get("failures") or []
            ],
            "x_death": self.x_death or None,
        }
        if self.envelope is None:
            try:
                doc.update(body=self.body.decode(), body_encoding="utf-8")
            except UnicodeDecodeError:
                doc.update(body=base64.b64encode(self.body).decode(), body_encoding="base64")
        else:
            doc["payload"] = self.payload
            doc["options"] = {k: v for k, v in self.options.items() if k not in shown}
        return doc

    def replay_body(self, stage_queue: str, *, replayed_from: str, at_ms: int, operator: str) -> bytes:
        """Return the message as its stage first saw it: retries 0, dead-letter options gone, trace kept."""
        if self.envelope is None:
            raise DlqError(NOT_REPLAYABLE)
        options = {k: v for k, v in self.options.items() if k not in DEAD_LETTER_OPTIONS}
        options.update(retries=0, replayed_at=at_ms, replayed_from=replayed_from, replayed_by=operator)
        return _encoder.encode({**self.envelope, "queue_name": stage_queue, "options": options})


def _envelope(body: bytes) -> dict[str, Any] | None:
    try:
        decoded = _encoder.decode(body)
        msgspec.convert(decoded, _Envelope)
    except (DecodeError, msgspec.ValidationError):
        return None
    return decoded


def _synthetic_id(properties: Any, body: bytes) -> str:
    # Stable across runs (so `show` and `replay` find it again): the body and the publisher's own id/time.
    digest = hashlib.sha256(body)
    for value in (getattr(properties, "message_id", None), getattr(properties, "timestamp", None)):
        digest.update(b"\0" + str(value or "").encode())
    return f"raw-{digest.hexdigest()[:16]}"


def _plain(value: Any) -> Any:
    """AMQP header values as JSON-ready builtins (pika gives datetimes, bytes and Decimals)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _millis(iso: str) -> int | None:
    try:
        return int(datetime.fromisoformat(iso).timestamp() * 1000)
    except ValueError:
        return None


def _iso(at_ms: object) -> str | None:
    if not isinstance(at_ms, int):
        return None
    return datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(timespec="milliseconds")
