"""Refused requests are journaled per source and reason per minute, not one write each (defect 9)."""

from __future__ import annotations

from datetime import UTC, datetime

from workers.access.journal import OTHER, Journal, RefusalTally
from workers.store.memory.store import MemoryTradeStore

REASON = "X-Slack-Signature does not match the body"


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_081_000.0  # on a minute boundary

    def __call__(self) -> float:
        return self.now


def tally(clock: Clock, **options: int) -> RefusalTally:
    journal = Journal(MemoryTradeStore(), 2557, clock=lambda: datetime.fromtimestamp(clock.now, UTC))
    return RefusalTally(journal, clock=clock, **options)


def test_the_first_refusal_of_a_source_and_reason_is_written_at_once_and_the_rest_are_counted() -> None:
    clock = Clock()
    refusals = tally(clock)

    first = refusals.count("signature_refused", "203.0.113.9", REASON, user_agent="curl/8")
    assert [(e.event_type, e.details["source_address"], e.details["reason"]) for e in first] == [
        ("signature_refused", "203.0.113.9", REASON)
    ]
    assert first[0].details["user_agent"] == "curl/8"
    for _ in range(9_999):
        clock.now += 0.001
        assert refusals.count("signature_refused", "203.0.113.9", REASON) == []

    (summary,) = refusals.close_window()
    assert summary.event_type == "signature_refused" and summary.actor == ""
    assert summary.details["source_address"] == "203.0.113.9" and summary.details["reason"] == REASON
    assert summary.details["repeated"] == 9_999  # besides the first, journaled on its own
    assert summary.details["window_s"] == 60
    assert refusals.close_window() == []  # closed once


def test_a_new_minute_closes_the_last_one() -> None:
    clock = Clock()
    refusals = tally(clock)
    refusals.count("signature_refused", "203.0.113.9", REASON)
    refusals.count("signature_refused", "203.0.113.9", REASON)
    clock.now += 60
    written = refusals.count("signature_refused", "203.0.113.9", REASON)
    assert [e.details.get("repeated") for e in written] == [1, None]  # last minute summed, then a first


def test_a_lone_refusal_needs_no_summary() -> None:
    clock = Clock()
    refusals = tally(clock)
    refusals.count("body_refused", "198.51.100.7", "not UTF-8")
    assert refusals.close_window() == []


def test_sources_beyond_the_bound_are_counted_together() -> None:
    clock = Clock()
    refusals = tally(clock, max_keys=3)
    written = [e for n in range(50) for e in refusals.count("signature_refused", f"10.0.0.{n}", REASON)]
    assert [e.details["source_address"] for e in written] == ["10.0.0.0", "10.0.0.1", "10.0.0.2", OTHER]
    (other,) = refusals.close_window()
    assert other.details["source_address"] == OTHER and other.details["repeated"] == 46


def test_every_refusal_is_counted_exactly_once() -> None:
    clock = Clock()
    refusals, total = tally(clock, max_keys=5), 0
    entries = []
    for n in range(3_000):
        clock.now += 0.05  # 150 s: three windows
        entries += refusals.count("signature_refused", f"10.0.{n % 7}.1", REASON if n % 2 else "stale")
        total += 1
    entries += refusals.close_window()
    assert sum(e.details.get("repeated", 1) for e in entries) == total
    assert len(entries) <= 3 * 2 * 6  # per window: a first and a summary per key, 5 keys and the rest


def test_a_timer_that_wakes_before_the_minute_ends_closes_nothing() -> None:
    clock = Clock()
    refusals = tally(clock)
    refusals.count("signature_refused", "203.0.113.9", REASON)
    refusals.count("signature_refused", "203.0.113.9", REASON)
    clock.now += 59.999  # asyncio's timer may fire within its clock's resolution of the deadline
    assert refusals.close_if_ended() == []
    assert refusals.count("signature_refused", "203.0.113.9", REASON) == []  # still counted, no second first
    clock.now += 0.001
    (summary,) = refusals.close_if_ended()
    assert summary.details["repeated"] == 2
