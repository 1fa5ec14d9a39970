"""Was every trader told, once per notice, and was any trade simulated beside a real order?

Every DM tradeflow posts carries Slack message metadata naming its trade and its notice (`working`,
`delayed`, `not_executed` or the `outcome`), so the checks count notices, not message texts: a trade held
before it was recorded may be told `not_executed` and, replayed, its outcome, and that is two notices, not
one told twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from messages.records import TradeRecord
from tests.faults.kinds.context import notice_payload

FINAL_NOTICES = frozenset({"outcome", "not_executed"})  # the trade ended, or was held and not executed


@dataclass
class Told:
    duplicate: list[str] = field(default_factory=list)  # a (trade, notice) posted more than once
    missing: list[str] = field(default_factory=list)  # terminal, and no outcome notice
    untold: list[str] = field(default_factory=list)  # accepted, and the trader never heard how it ended
    simulated_beside_order: list[str] = field(default_factory=list)


def notices_by_trade(messages: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """Each trade's notices, counted, from the DMs' metadata."""
    told: dict[str, Counter[str]] = {}
    for message in messages:
        payload = notice_payload(message)
        if payload is not None:
            told.setdefault(payload[0], Counter())[payload[1]] += 1
    return told


def check_told(
    trades: Mapping[uuid.UUID, TradeRecord | None],
    orders: list[dict[str, Any]],
    messages: list[dict[str, Any]],
) -> Told:
    told, result = notices_by_trade(messages), Told()
    ordered = {o["client_order_id"] for o in orders}
    for trade_id, record in trades.items():
        notices = told.get(str(trade_id), Counter())
        for notice, count in notices.items():
            if count > 1:
                result.duplicate.append(f"{trade_id}: {notice} notice posted {count}×")
        if record is not None and record.is_terminal and not notices["outcome"]:
            result.missing.append(f"{trade_id}: {record.status}, never told")
        open_and_said_so = record is not None and record.is_open and notices["working"] > 0
        if not (FINAL_NOTICES & set(notices)) and not open_and_said_so:
            state = record.status if record is not None else "no record"
            result.untold.append(f"{trade_id}: {state}, notices {dict(notices) or 'none'}")
        if record is not None and record.execution_method == "simulation" and str(trade_id) in ordered:
            result.simulated_beside_order.append(f"{trade_id}: simulated, and Alpaca holds an order for it")
    return result
