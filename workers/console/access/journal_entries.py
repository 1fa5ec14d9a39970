"""What the activity journal keeps of each operator action: its facts and the trades it touched, never a
message body (a dead letter's payload and traceback stay in RabbitMQ, for `dlq show`)."""

from __future__ import annotations

from typing import Any

LISTED = 100  # ids named per entry; the counts are always whole


def replay_entry(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "dead_letters_replayed", {
        "queue": doc["queue"],
        "message_id": doc["message_id"] or "all",
        "replayed": [_ids(entry) for entry in doc["replayed"][:LISTED]],
        "replayed_count": len(doc["replayed"]),
        "duplicates_removed_count": len(doc["duplicates_removed"]),
        "skipped_count": len(doc["skipped"]),
        "failed_count": len(doc["failed"]),
    }


def purge_entry(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "dead_letters_purged", {
        "queue": doc["queue"],
        "count": doc["count"],
        "confirmed": doc["confirmed"],
        "purged": doc["purged"],
    }


def reconcile_entry(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "reconcile_requested", {
        "older_than_s": doc.get("older_than_s"),
        "trade_ids": doc["reconciling"][:LISTED],
        "count": len(doc["reconciling"]),
    }


def _ids(entry: dict[str, Any]) -> dict[str, Any]:
    return {"message_id": entry["message_id"], "trade_id": entry.get("trade_id")}
