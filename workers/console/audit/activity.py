"""`tradeflow audit activity`: the activity journal, one or every stream, oldest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from messages.records import ACTIVITY_STREAMS, ActivityEvent, ActivityStream
from workers.store.port import TradeStore


async def activity_document(
    store: TradeStore, streams: tuple[ActivityStream, ...], since: datetime, until: datetime | None = None
) -> dict[str, Any]:
    """The streams' entries in [since, until), merged oldest first."""
    until = datetime.now(UTC) if until is None else until
    events: list[ActivityEvent] = []
    for stream in streams:
        events += await store.list_activity(stream, since, until)
    events.sort(key=lambda event: (event.at, str(event.event_id)))
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "streams": list(streams),
        "events": [_event(event) for event in events],
    }


def streams_of(choice: str | None) -> tuple[ActivityStream, ...]:
    return ACTIVITY_STREAMS if choice is None else tuple(s for s in ACTIVITY_STREAMS if s == choice)


def _event(event: ActivityEvent) -> dict[str, Any]:
    return {
        "at": event.at.astimezone(UTC).isoformat(),
        "stream": event.stream,
        "event_type": event.event_type,
        "actor": event.actor,
        "details": json.loads(json.dumps(event.details, default=str)),  # Decimals as strings
        "event_id": str(event.event_id),
    }


def render_activity(doc: dict[str, Any]) -> str:
    if not doc["events"]:
        return f"No activity in {', '.join(doc['streams'])} since {doc['since']}"
    lines = []
    for event in doc["events"]:
        at = datetime.fromisoformat(event["at"])
        details = " ".join(f"{k}={_text(v)}" for k, v in event["details"].items())
        actor = event["actor"] or "—"
        lines.append(
            f"{at:%Y-%m-%d %H:%M:%S}Z  {event['stream']:<7} {event['event_type']:<22} {actor:<12} {details}"
        )
    return "\n".join(lines)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
