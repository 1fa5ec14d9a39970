"""The resend kinds' check on hand-made data (no stack started): a request refused before the one Alpaca
accepted is no resend; anything after the 504 is."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.faults.kinds.alpaca import check_resend
from tests.faults.kinds.context import Injection, Seen
from tests.faults.test_told import record


def seen_with(statuses: list[int]) -> tuple[Seen, uuid.UUID]:
    trade = record("unknown", "alpaca")
    cid = str(trade.trade_id)
    requests = [{"client_order_id": cid, "status": status} for status in statuses]
    orders = [{"id": "order-1", "client_order_id": cid}]
    seen = Seen(
        store=None,  # type: ignore[arg-type]
        settings=None,  # type: ignore[arg-type]
        trades={trade.trade_id: trade},
        orders=orders,
        order_requests=requests,
        messages=[],
        dead_letter_trades=set(),
    )
    return seen, trade.trade_id


def problems(statuses: list[int]) -> list[str]:
    seen, trade_id = seen_with(statuses)
    injection = Injection("alpaca_resend_504_429", time.time(), time.time(), trade_ids=[trade_id])
    outcome: Any = check_resend(seen, "alpaca_resend_504_429", [injection])
    return list(outcome.problems)


def test_requests_refused_before_the_accepted_one_are_no_resend() -> None:
    assert problems([504]) == []
    assert problems([429, 429, 504]) == []  # a CI run met this: another fault's 429s, then the 504
    assert problems([503, 504]) == []


def test_a_request_after_the_504_or_a_second_504_is_a_resend() -> None:
    assert problems([504, 429]) and problems([504, 504]) and problems([429]) and problems([])
