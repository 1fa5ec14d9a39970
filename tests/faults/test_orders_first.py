"""The campaign's order of kinds: a kind that stops the chain waits for the Alpaca kinds' orders, a while."""

from __future__ import annotations

import threading
import time

from tests.faults.kinds import KIND_NAMES
from tests.faults.kinds.context import ORDER_KINDS, OrdersFirst


def test_the_order_kinds_are_kinds_of_the_campaign() -> None:
    assert set(KIND_NAMES) >= ORDER_KINDS


def test_a_chain_stopping_kind_goes_once_every_order_kind_met_its_orders() -> None:
    first = OrdersFirst()
    first.expect(2)
    released: list[bool] = []
    waiter = threading.Thread(target=lambda: released.append(first.wait(5.0)))
    waiter.start()
    first.met()
    time.sleep(0.05)
    assert released == []  # one kind still waits for its orders
    first.met()
    waiter.join(5.0)
    assert released == [True]


def test_it_goes_anyway_when_the_orders_do_not_come_in_time() -> None:
    first = OrdersFirst()
    first.expect(1)
    assert first.wait(0.05) is False
    assert OrdersFirst().wait(0.0) is True  # nothing planned that needs orders: no wait
