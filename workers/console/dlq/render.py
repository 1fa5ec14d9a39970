"""The dead-letter commands' documents as lines for people (`--json` prints the documents themselves)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from telemetry.redaction import redact

REASON_WIDTH = 70


def redact_document(doc: Any, secrets: Iterable[str]) -> Any:
    """Return `doc` with every string in it masked: a dead letter's body, reason or traceback may hold a
    token. A base64 body (one that is not text) is masked in its bytes and encoded again."""
    secrets = tuple(secrets)

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, secrets)
        if isinstance(value, list | tuple):
            return [clean(item) for item in value]
        if not isinstance(value, dict):
            return value
        cleaned = {clean(key): clean(item) for key, item in value.items()}
        if value.get("body_encoding") == "base64" and isinstance(value.get("body"), str):
            raw = base64.b64decode(value["body"]).decode("latin-1")  # one char per byte, both ways
            cleaned["body"] = base64.b64encode(redact(raw, secrets).encode("latin-1")).decode()
        return cleaned

    return clean(doc)


def render_list(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    for queue in doc["queues"]:
        if not queue["exists"]:
            lines.append(f"{queue['queue']}: not declared yet (no worker has consumed {queue['stage']})")
            continue
        lines.append(
            f"{queue['queue']}: {_count(queue['dead_letters'], 'dead letter')}"
            f"  ({queue['delayed']} waiting to be retried, {queue['waiting']} queued on {queue['stage']})"
        )
        if queue["messages"]:
            lines.append(f"  {'MESSAGE ID':<38}{'TRADE ID':<38}{'TYPE':<16}{'RETRIES':>7}{'AGE':>8}  REASON")
        for m in queue["messages"]:
            lines.append(
                f"  {m['message_id']:<38}{m['trade_id'] or '-':<38}{m['message_type'] or '-':<16}"
                f"{_or_dash(m['retries']):>7}{_age(m['age_s']):>8}  {_short(m['reason'])}"
            )
        hidden = queue["dead_letters"] - len(queue["messages"])
        if queue["messages"] and hidden > 0:
            lines.append(f"  … and {hidden} more")
    lines.append(f"{_count(doc['total'], 'dead letter')} in all.")
    return "\n".join(lines)


def render_show(doc: dict[str, Any]) -> str:
    if not doc["found"]:
        return f"No dead letter {doc['message_id']} in {doc['queue']}."
    lines = [
        f"Dead letter {doc['message_id']} in {doc['queue']}",
        f"  trade id: {doc['trade_id'] or '-'}   type: {doc['message_type'] or '-'}"
        f"   actor: {doc['actor'] or '-'}",
        f"  reason: {doc['reason']}",
        f"  retries: {_or_dash(doc['retries'])}   permanent: {_or_dash(doc['permanent'])}"
        f"   dead-lettered: {doc['dead_lettered_at'] or '-'} ({_age(doc['age_s'])} ago)",
    ]
    if doc["failures"]:
        lines.append("  history:")
        lines += [f"    #{f.get('attempt')}  {f.get('at')}  {f.get('error')}" for f in doc["failures"]]
    for death in doc["x_death"] or []:
        where = f"{death.get('reason')} in {death.get('queue')}"
        lines.append(f"  x-death: {where} ×{death.get('count')} at {death.get('time')}")
    if "payload" in doc:
        lines.append(f"  payload: {json.dumps(doc['payload'], default=str)}")
        if doc["options"]:
            lines.append(f"  options: {json.dumps(doc['options'], default=str)}")
    else:
        lines.append(f"  body ({doc['body_encoding']}): {doc['body'][:2000]}")
    if doc["traceback"]:
        lines.append("  traceback:")
        lines += [f"    {line}" for line in doc["traceback"].rstrip().splitlines()]
    if not doc["replayable"]:
        lines.append("  not replayable: the body is not a dramatiq message")
    return "\n".join(lines)


def render_replay(doc: dict[str, Any]) -> str:
    if not doc["found"]:
        wanted = doc["message_id"] or "any dead letter"
        return f"Nothing to replay: no {wanted} in {doc['queue']}."
    at = datetime.fromtimestamp(doc["replayed_at_ms"] / 1000, UTC).isoformat(timespec="seconds")
    lines = [
        f"Replayed {_count(len(doc['replayed']), 'dead letter')} from {doc['queue']} to {doc['stage_queue']}"
        f" as {doc['operator']} at {at}"
    ]
    lines += [f"  replayed  {r['message_id']}  trade {r['trade_id'] or '-'}" for r in doc["replayed"]]
    lines += [
        f"  removed   {r['message_id']}  (a second copy of a message replayed above)"
        for r in doc["duplicates_removed"]
    ]
    lines += [f"  skipped   {r['message_id']}  {r['reason']}" for r in doc["skipped"]]
    lines += [f"  FAILED    {r['message_id']}  {r['error']} (still in {doc['queue']})" for r in doc["failed"]]
    return "\n".join(lines)


def render_purge(doc: dict[str, Any]) -> str:
    if doc["count"] == 0:
        return f"{doc['queue']} holds no dead letters."
    if not doc["confirmed"]:
        return f"Not purged: {_count(doc['count'], 'dead letter')} left in {doc['queue']}."
    text = f"Purged {_count(doc['purged'], 'dead letter')} from {doc['queue']}."
    if doc.get("remaining"):
        text += f" {doc['remaining']} arrived since the count and were kept."
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def _short(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= REASON_WIDTH else line[: REASON_WIDTH - 1] + "…"


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
