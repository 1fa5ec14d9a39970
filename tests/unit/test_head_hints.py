"""Chain-head hints: used once, forgotten after their TTL, bounded in number."""

from __future__ import annotations

from workers.store.audit_chain import ChainHead
from workers.store.head_hints import UNKNOWN, ChainHeadHints

HEAD = ChainHead(2, "ab" * 32)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_hint_is_used_once() -> None:
    hints = ChainHeadHints()
    hints.remember("t1", HEAD)
    assert hints.take("t1") == HEAD
    assert hints.take("t1") is UNKNOWN


def test_a_trade_without_a_chain_is_a_hint_too() -> None:
    hints = ChainHeadHints()
    hints.remember("t1", None)
    assert hints.take("t1") is None


def test_a_hint_older_than_its_ttl_is_unknown() -> None:
    clock = Clock()
    hints = ChainHeadHints(ttl_s=5, clock=clock)
    hints.remember("t1", HEAD)
    clock.now += 5.5
    assert hints.take("t1") is UNKNOWN


def test_the_oldest_hints_make_room_for_new_ones() -> None:
    hints = ChainHeadHints(capacity=2)
    for trade_id in ("t1", "t2", "t3"):
        hints.remember(trade_id, HEAD)
    assert hints.take("t1") is UNKNOWN
    assert hints.take("t2") == HEAD and hints.take("t3") == HEAD
