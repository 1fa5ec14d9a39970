"""The campaign's order of kinds: a kind that stops the chain waits, a while, for the kinds that need it."""

from __future__ import annotations

import threading
import time

from tests.faults.kinds import KIND_NAMES
from tests.faults.kinds.context import FIRST_KINDS, ORDER_KINDS, FirstKinds


def test_the_first_kinds_are_kinds_of_the_campaign() -> None:
    assert set(KIND_NAMES) >= FIRST_KINDS >= ORDER_KINDS


def _waiting(first: FirstKinds, **wait: object) -> tuple[threading.Thread, list[bool]]:
    released: list[bool] = []
    waiter = threading.Thread(target=lambda: released.append(first.wait(timeout_s=5.0, **wait)))  # type: ignore[arg-type]
    waiter.start()
    return waiter, released


def test_a_chain_stopping_kind_goes_once_every_first_kind_is_done() -> None:
    first = FirstKinds()
    first.expect(["alpaca_resend_504_429", "approval_races_expiry", "poison_number"])
    waiter, released = _waiting(first)
    first.done("alpaca_resend_504_429")
    time.sleep(0.05)
    assert released == []  # the approval kind still needs the chain
    first.done("approval_races_expiry")
    waiter.join(5.0)
    assert released == [True]


def test_each_injection_of_a_kind_planned_twice_must_be_done() -> None:
    first = FirstKinds()
    first.expect(["alpaca_resend_504_403", "alpaca_resend_504_403"])
    waiter, released = _waiting(first)
    first.done("alpaca_resend_504_403")
    time.sleep(0.05)
    assert released == []
    first.done("alpaca_resend_504_403")
    waiter.join(5.0)
    assert released == [True]


def test_the_crash_kind_waits_for_the_other_order_kinds_only() -> None:
    first = FirstKinds()
    first.expect(["alpaca_disabled_after_crash", "alpaca_call_outlives_limit", "approval_clicked_twice"])
    waiter, released = _waiting(first, kinds=ORDER_KINDS, leaving=1)
    time.sleep(0.05)
    assert released == []
    first.done("alpaca_call_outlives_limit")  # the approval kind may still be at work
    waiter.join(5.0)
    assert released == [True]


def test_it_goes_anyway_when_the_first_kinds_are_not_done_in_time() -> None:
    first = FirstKinds()
    first.expect(["alpaca_resend_504_429"])
    assert first.wait(timeout_s=0.05) is False
    assert FirstKinds().wait(timeout_s=0.0) is True  # nothing planned that needs the chain: no wait
