"""Four eyes under faults, driven from Slack's side: approval clicks sent twice (one approver's double click,
two approvers' Approve and Reject at the same moment), and an approval racing the request's expiry (the
approver's click and the sweeper's expire sent at the moment it runs out).

Each kind submits trades of its own above the desk's approval threshold (its first injection sets it and
grants two approvers; the load's trades stay below it), waits for each in the approvers' channel, then
clicks. Its check: each trade ended with exactly one decision, at most one order (none unless approved),
its trader told once, and the approvers' message posted once and showing the decision.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from messages.events import DecideApproval
from messages.records import TradeRecord
from tests.faults.kinds.approval_desk import (
    APPROVERS,
    awaiting_trade,
    click,
    click_at_once,
    desk_ready,
    request_of,
)
from tests.faults.kinds.context import RACE_SENT, Injection, KindOutcome, KindRun, Seen, begin
from workers.chain.publisher import Publisher

RACE_LOCKED_S = 3.0  # the store held up from this long before the expiry through the race
DECISIONS = (
    "trade_approved",
    "trade_approval_rejected",
    "trade_approval_expired",
    "trade_approval_withdrawn",
)


# -- approval_clicked_twice -------------------------------------------------------------------------------


def inject_clicked_twice(run: KindRun, seed: int) -> None:
    """One trade approved by a double click of one approver; another clicked Approve and Reject at once by
    two approvers."""
    injection = begin("approval_clicked_twice")
    rng = random.Random(seed)
    clicks = [
        [("approve_trade", APPROVERS[0]), ("approve_trade", APPROVERS[0])],
        [("approve_trade", APPROVERS[0]), ("reject_trade", APPROVERS[1])],
    ]
    answers: dict[str, list[str]] = {}
    try:
        desk_ready(run, injection)
        for pair in clicks:
            waiting = awaiting_trade(run, injection, rng)
            if waiting is not None:
                trade_id, request = waiting
                answers[str(trade_id)] = asyncio.run(click_at_once(run, request, pair))
    finally:
        run.done_first("approval_clicked_twice", "posted and clicked")
    injection.facts["answers"] = answers
    run.log.add("approval_clicked_twice", f"{len(answers)} trade(s), each clicked twice at once")
    run.record(injection)


# -- approval_races_expiry --------------------------------------------------------------------------------


def inject_races_expiry(run: KindRun, seed: int) -> None:
    """At the moment the request runs out, an approver clicks Approve and the sweeper's expire is sent."""
    injection = begin("approval_races_expiry")
    rng = random.Random(seed)
    waiting: tuple[uuid.UUID, dict[str, Any]] | None = None
    answers: list[str] | None = None
    try:
        try:
            desk_ready(run, injection)
            waiting = awaiting_trade(run, injection, rng)
        finally:  # its time to live runs while persistence may be down; the store stays up for the race
            run.done_first("approval_races_expiry", "posted")
        if waiting is not None:
            answers = _race_at_expiry(run, injection, *waiting, rng)
    finally:  # raced, or nothing to race: the long store outage may go
        run.done_first(RACE_SENT, "raced" if answers is not None else "no race")
    if waiting is not None and answers is not None:
        trade_id = waiting[0]
        injection.facts["answers"] = {str(trade_id): answers}
        run.log.add("approval_races_expiry", f"{trade_id}: approve clicked as the expire was sent")
    run.record(injection)


def _race_at_expiry(
    run: KindRun, injection: Injection, trade_id: uuid.UUID, request: dict[str, Any], rng: random.Random
) -> list[str] | None:
    """The click and the expire sent together at the request's expiry; the click's answer (None: no
    approval recorded to race).

    The store is held up (run.locks.store) for the look and for the race's last seconds, not for the wait
    between: a race with DynamoDB Local stopped is the outage kind's subject, and an outage that holds it
    past the expiry makes this race late (the sweeper's expire then wins, still one decision)."""
    with run.locks.store:
        record = run.store_now(lambda store: store.get_trade(trade_id))
    if record is None or record.approval is None:
        injection.problems.append(f"{trade_id}: no approval recorded")
        return None
    expires_at = record.approval.expires_at
    at = expires_at.timestamp() + rng.uniform(-0.4, 0.2)
    time.sleep(max(0.0, at - RACE_LOCKED_S - time.time()))
    with run.locks.store:
        time.sleep(max(0.0, at - time.time()))
        answers = _send_both(run, request, record, expires_at)
    injection.facts["late_s"] = round(time.time() - expires_at.timestamp(), 2)
    return answers


def _send_both(run: KindRun, request: dict[str, Any], record: TradeRecord, expires_at: datetime) -> list[str]:
    """The approver's click and the sweeper's expire, sent at once."""
    expiry = DecideApproval(
        trade=record.request(),
        decision="expire",
        decided_by="tradeflow",
        decided_at=expires_at,
        source="sweeper",
    )
    publisher = Publisher(run.settings)
    try:
        return asyncio.run(_race(run, request, publisher, expiry))
    finally:
        publisher.close()


async def _race(
    run: KindRun, request: dict[str, Any], publisher: Publisher, expiry: DecideApproval
) -> list[str]:
    sending = asyncio.to_thread(publisher.send, expiry)
    clicked, _ = await asyncio.gather(click(run, request, "approve_trade", APPROVERS[0]), sending)
    return [clicked]


# -- the checks -------------------------------------------------------------------------------------------


async def check_clicked_twice(seen: Seen, injections: list[Injection]) -> KindOutcome:
    return await _check("approval_clicked_twice", seen, injections)


async def check_races_expiry(seen: Seen, injections: list[Injection]) -> KindOutcome:
    return await _check("approval_races_expiry", seen, injections)


async def _check(kind: str, seen: Seen, injections: list[Injection]) -> KindOutcome:
    trade_ids = [t for i in injections for t in i.trade_ids]
    outcome = KindOutcome.of(kind, injections, len(trade_ids))
    if injections and not trade_ids:
        outcome.problems.append("no trade awaited approval")
    decisions: Counter[str] = Counter()
    for trade_id in trade_ids:
        problems, decision = await _one_decision(seen, trade_id)
        outcome.problems += problems
        decisions[decision] += 1
    for injection in injections:
        said = [a for answers in injection.facts.get("answers", {}).values() for a in answers]
        outcome.notes.append(", ".join(f"{word} {said.count(word)}" for word in sorted(set(said))))
    outcome.notes.append(", ".join(f"{d} {n}" for d, n in sorted(decisions.items())))
    return outcome


async def _one_decision(seen: Seen, trade_id: uuid.UUID) -> tuple[list[str], str]:
    record = seen.trades.get(trade_id)
    if record is None or record.approval is None or record.approval.decision is None:
        return [f"{trade_id}: {record.status if record else 'no record'}, undecided"], "undecided"
    problems, decision = [], record.approval.decision
    audit = [e.event_type for e in await seen.store.list_audit(trade_id)]
    if sum(audit.count(d) for d in DECISIONS) != 1:
        problems.append(f"{trade_id}: decisions audited {[d for d in audit if d in DECISIONS]}")
    orders = seen.orders_of(trade_id)
    if len(orders) > (1 if decision == "approved" else 0):
        problems.append(f"{trade_id}: {decision}, and {len(orders)} order(s) at Alpaca")
    if decision != "approved" and record.status != "rejected":
        problems.append(f"{trade_id}: {decision}, yet {record.status}")
    if not seen.told_how_it_ended(trade_id):
        problems.append(f"{trade_id}: its trader not told how it ended, once")
    told = seen.notices()
    for notice in ("approval_waiting", "approved"):
        if told[(str(trade_id), notice)] > 1:
            problems.append(f"{trade_id}: its {notice} notice posted {told[(str(trade_id), notice)]}×")
    posts = [m for m in seen.messages if request_of(m) == str(trade_id)]
    if len(posts) != 1:
        problems.append(f"{trade_id}: asked the approvers {len(posts)}×")
    elif not posts[0].get("updates") or "approve_trade" in json.dumps(posts[0].get("blocks")):
        problems.append(f"{trade_id}: the approvers' message does not show the decision")
    return problems, decision
