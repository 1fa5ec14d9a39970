"""The paper guard's verdict on hand-made data (no stack started): an order counts by when its request
reached Alpaca, not by when a slow answer let it be created."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.faults.checks import GUARD_GRACE_S, Figures, _orders, first_arrivals


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _verdict(sent_s: float, created_s: float, *, logged: bool = True) -> list[str]:
    """Orders flagged for a guard window [100, 110) of an order sent and created at those times."""
    cid = str(uuid.uuid4())
    order = {"client_order_id": cid, "created_at": _rfc3339(100 + created_s), "filled_qty": "0"}
    requests = [{"client_order_id": cid, "received_at": _rfc3339(100 + sent_s)}] if logged else []
    figures = Figures(trades=0)
    _orders(figures, {}, [order], first_arrivals(requests), [(100.0, 110.0)])
    return figures.orders_while_guard_failed


def test_an_order_sent_within_the_grace_and_created_later_by_a_slow_answer_is_no_breach() -> None:
    assert _verdict(sent_s=1.6, created_s=GUARD_GRACE_S + 0.03) == []


def test_an_order_sent_after_the_grace_while_the_account_is_live_is_a_breach() -> None:
    assert len(_verdict(sent_s=GUARD_GRACE_S + 0.5, created_s=GUARD_GRACE_S + 0.6)) == 1


def test_an_order_whose_request_was_not_logged_is_judged_by_its_creation() -> None:
    assert len(_verdict(sent_s=0.0, created_s=GUARD_GRACE_S + 1, logged=False)) == 1
    assert _verdict(sent_s=0.0, created_s=1.0, logged=False) == []


def test_the_first_request_of_an_order_counts() -> None:
    arrivals = first_arrivals(
        [
            {"client_order_id": "a", "received_at": _rfc3339(105.0)},
            {"client_order_id": "a", "received_at": _rfc3339(101.0)},
            {"client_order_id": None, "received_at": _rfc3339(99.0)},
        ]
    )
    assert arrivals == {"a": 101.0}
