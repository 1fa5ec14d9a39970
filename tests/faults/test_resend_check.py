"""The resend kinds' check on hand-made data (no stack started): a request refused before the one Alpaca
accepted is no resend; anything after the 504 is."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.faults.kinds.alpaca import check_resend
from tests.faults.kinds.context import Injection, Seen
from tests.faults.test_told import record


def seen_with(answers: list[str]) -> tuple[Seen, uuid.UUID]:
    """`answers`: each order request's "status/fault" as the emulator logs it (fault "-": none)."""
    trade = record("unknown", "alpaca")
    cid = str(trade.trade_id)
    requests = []
    for answer in answers:
        status, fault = answer.split("/")
        requests.append(
            {"client_order_id": cid, "status": int(status), "fault": None if fault == "-" else fault}
        )
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


def problems(answers: list[str]) -> list[str]:
    seen, trade_id = seen_with(answers)
    injection = Injection("alpaca_resend_504_429", time.time(), time.time(), trade_ids=[trade_id])
    outcome: Any = check_resend(seen, "alpaca_resend_504_429", [injection])
    return list(outcome.problems)


ACCEPTED = "504/accept_then_504"


def test_requests_refused_before_the_accepted_one_are_no_resend() -> None:
    assert problems([ACCEPTED]) == []
    assert problems(["429/http_error", "429/http_error", ACCEPTED]) == []  # a CI run met this
    assert problems(["504/http_error", ACCEPTED]) == []  # and this: another fault's 504 before acceptance
    assert problems(["503/http_error", ACCEPTED]) == []


def test_a_request_after_the_accepted_one_is_a_resend() -> None:
    assert problems([ACCEPTED, "429/accept_then_504"])  # a resend, refused by Alpaca
    assert problems([ACCEPTED, ACCEPTED]) and problems([ACCEPTED, "200/-"])
    assert problems(["504/http_error"]) and problems([])  # the fault never accepted this trade's order
