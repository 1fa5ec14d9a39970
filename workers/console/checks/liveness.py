"""What `tradeflow health` makes of the worker processes' heartbeats, beside the consumers RabbitMQ counts.

A process is live while its last beat is younger than LIVE_INTERVALS of its own intervals. Each worker
process holds one consumer on each queue it beats for, so on a queue the two counts agree: more consumers
than live processes means a consumer whose process no longer beats (wedged, or too old to beat), more live
processes than consumers means a process that beats but lost its consumer. Either is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from messages.records import Heartbeat

LIVE_INTERVALS = 3


def age_s(heartbeat: Heartbeat, now: datetime) -> float:
    return max(0.0, (now - heartbeat.beat_at).total_seconds())


def is_live(heartbeat: Heartbeat, now: datetime) -> bool:
    return age_s(heartbeat, now) <= LIVE_INTERVALS * heartbeat.interval_ms / 1000


def process_facts(heartbeat: Heartbeat, now: datetime) -> dict[str, Any]:
    """One process's heartbeat for --json: who, what it consumes, since when, its last beat and its age."""
    return {
        "process_id": heartbeat.process_id,
        "host": heartbeat.host,
        "pid": heartbeat.pid,
        "role": heartbeat.role,
        "queues": list(heartbeat.queues),
        "version": heartbeat.version,
        "started_at": heartbeat.started_at.isoformat(),
        "beat_at": heartbeat.beat_at.isoformat(),
        "age_s": round(age_s(heartbeat, now), 1),
        "interval_s": heartbeat.interval_ms / 1000,
        "live": is_live(heartbeat, now),
    }


def queue_liveness(
    queue: str, consumers: int, heartbeats: Sequence[Heartbeat], now: datetime
) -> tuple[list[str], str, dict[str, Any]]:
    """The queue's liveness problems, the words its line adds, and its facts for --json."""
    beating = [beat for beat in heartbeats if queue in beat.queues]
    live = [beat for beat in beating if is_live(beat, now)]
    last = min((age_s(beat, now) for beat in beating), default=None)
    problems = []
    if consumers > len(live):
        problems.append(f"{consumers - len(live)} consumer(s) without a live heartbeat")
    elif len(live) > consumers:
        problems.append(f"{len(live) - consumers} live process(es) not consuming")
    words = f"{len(live)} live process(es)" + ("" if last is None else f", last beat {format_age(last)} ago")
    facts = {
        "live_processes": len(live),
        "last_beat_age_s": None if last is None else round(last, 1),
        "processes": [
            {"process_id": beat.process_id, "age_s": round(age_s(beat, now), 1), "live": is_live(beat, now)}
            for beat in beating
        ],
    }
    return problems, words, facts


def heartbeats_detail(heartbeats: Sequence[Heartbeat], now: datetime) -> str:
    """One line on every process that beats: how many are live, on how many hosts, and the silent ones."""
    live = [beat for beat in heartbeats if is_live(beat, now)]
    silent = [beat for beat in heartbeats if not is_live(beat, now)]
    line = f"{len(live)} live worker process(es) on {len({beat.host for beat in live})} host(s)"
    if silent:
        line += "; silent: " + ", ".join(
            f"{beat.process_id} (last beat {format_age(age_s(beat, now))} ago)" for beat in silent
        )
    return line


def format_age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"
