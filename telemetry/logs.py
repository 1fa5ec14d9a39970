"""Logging for every tradeflow process: one line per event, the trade id on each line about a trade.

The trade id comes from the current OpenTelemetry span: a trade's trace id is its trade id
(`telemetry.tracing`), so a line logged while a stage handles a trade carries it with no help from the
caller. `extra={"trade_id": ...}` names it explicitly where no span is current (and wins over the span).
Every line is redacted before it is written: no configured secret, and nothing shaped like a token.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from opentelemetry import trace

from telemetry.redaction import SecretSettings, redact, secrets_of

# Chatty below WARNING, and botocore's and urllib3's debug lines show request headers: quiet unless
# DEBUG_MODE says otherwise.
NOISY_LOGGERS = ("pika", "botocore", "aiobotocore", "urllib3", "websockets")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_CONTEXT_ATTRIBUTES = frozenset({"trade_id", "trace_id", "span_id"})
_TRADE_ID_ATTRIBUTE = "trade.id"


class LogSettings(SecretSettings, Protocol):
    """What `configure_logging` reads; `workers.settings.Settings` has it all."""

    @property
    def log_level(self) -> str: ...
    @property
    def debug_mode(self) -> bool: ...
    @property
    def tradeflow_log_format(self) -> str: ...


class TradeContextFilter(logging.Filter):
    """Put `trade_id`, `trace_id` and `span_id` on each record from the current span (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        explicit = getattr(record, "trade_id", None)
        span = trace.get_current_span()
        context = span.get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        trade_id = explicit if explicit is not None else _trade_id_of_span(span) if context.is_valid else None
        if trade_id is not None:
            record.trade_id = str(trade_id)
        return True


def _trade_id_of_span(span: trace.Span) -> str | None:
    # A stage's CONSUMER span names its trade; a child span (a DynamoDB call, say) only shares its trace.
    attributes = getattr(span, "attributes", None)
    named = attributes.get(_TRADE_ID_ATTRIBUTE) if isinstance(attributes, Mapping) else None
    if isinstance(named, str):
        return named
    # Trade ids are minted as UUID4s; a trace that is no trade's (a random trace id) passes this test only
    # by chance (1 in 64), while every trade's trace passes it.
    candidate = uuid.UUID(int=span.get_span_context().trace_id)
    if candidate.version == 4 and candidate.variant == uuid.RFC_4122:
        return str(candidate)
    return None


class _RedactingFormatter(logging.Formatter):
    def __init__(self, service_name: str, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.service_name = service_name
        self.secrets = tuple(secrets)

    def _redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def _exception_text(self, record: logging.LogRecord) -> str | None:
        parts = []
        if record.exc_info:
            parts.append(self.formatException(record.exc_info))
        elif record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(parts) if parts else None


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return the fields a caller added with `extra=` (not the trade context, which has its own keys)."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRIBUTES and key not in _CONTEXT_ATTRIBUTES and not key.startswith("_")
    }


class JsonFormatter(_RedactingFormatter):
    """One JSON object a line: ts, level, logger, message, service, pid, the trade context, exc, extras."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": _utc_iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redact(record.getMessage()),
            "service": self.service_name,
            "pid": record.process,
        }
        for key in ("trade_id", "trace_id", "span_id"):
            value = getattr(record, key, None)
            if value is not None:
                document[key] = str(value)
        exception = self._exception_text(record)
        if exception is not None:
            document["exc"] = self._redact(exception)
        for key, value in extra_fields(record).items():
            document.setdefault(key, self._clean(value))
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))

    def _clean(self, value: Any) -> Any:
        """Make a value JSON-ready with every string in it redacted."""
        if isinstance(value, str):
            return self._redact(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {self._redact(str(k)): self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(v) for v in value]
        return self._redact(str(value))


class TextFormatter(_RedactingFormatter):
    """`ts LEVEL logger [trade ID] message key=value … | exception`, on one line (newlines as `\\n`)."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_utc_iso(record.created), f"{record.levelname:<7}", record.name]
        trade_id = getattr(record, "trade_id", None)
        if trade_id is not None:
            parts.append(f"[trade {trade_id}]")
        parts.append(record.getMessage())
        parts.extend(f"{key}={_text_value(value)}" for key, value in extra_fields(record).items())
        line = " ".join(parts)
        exception = self._exception_text(record)
        if exception is not None:
            line = f"{line} | {exception}"
        return self._redact(line).replace("\r", "\\r").replace("\n", "\\n")


def _text_value(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def _utc_iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_level(settings: LogSettings, at_least: str | None = None) -> int:
    """DEBUG when DEBUG_MODE is on; otherwise LOG_LEVEL, raised to `at_least` if that is higher."""
    if settings.debug_mode:
        return logging.DEBUG
    names = logging.getLevelNamesMapping()
    level = names[settings.log_level.upper()]
    return max(level, names[at_least.upper()]) if at_least else level


def configure_logging(
    settings: LogSettings,
    service_name: str,
    *,
    at_least: str | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Make the root logger write one redacted line per event to `stream` (stderr by default), only.

    Replaces whatever handlers the root logger had (dramatiq's CLI installs its own in each worker
    process), so it may be called again to change the configuration. `at_least` raises the level (an
    operator command wants only warnings on its stderr) unless DEBUG_MODE is on.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    formatter = JsonFormatter if settings.tradeflow_log_format == "json" else TextFormatter
    handler.setFormatter(formatter(service_name, secrets_of(settings)))
    handler.addFilter(TradeContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(log_level(settings, at_least))
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if settings.debug_mode else logging.WARNING)
    logging.captureWarnings(True)  # a Python warning is an event too: one line, in the same format
    return handler
