"""Slack's side of the approval kinds (tests/faults/kinds/approvals.py): the desk's threshold and approvers
set, a trade above the threshold submitted and found in the approvers' channel, and an approver's clicks."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bench.load import submission, trade_id_of
from emulators.slack.driver import SlackDriver
from messages.limits import DeskLimits, RiskLimits
from tests.faults.kinds.context import Injection, KindRun
from workers.store.port import TradeStore

APPROVERS_CHANNEL = "C0APPROVALS"
APPROVERS = ("UFAPPROVER1", "UFAPPROVER2")
THRESHOLD = Decimal(20_000)  # the load buys at most 5 shares of a $550 symbol; these kinds 150 AAPL ($190)
SIZE = "150"
POSTED_WITHIN_S = 240.0  # a store outage (up to 75 s) and its retries may hold the request's post back


def desk_ready(run: KindRun, injection: Injection) -> None:
    """The desk's approval threshold set and two approvers granted (once is enough; again changes nothing)."""
    from tests.faults.settling import OPERATOR, operator_cli  # settling imports the checks, which import us

    with run.locks.store:  # never while a fault holds the store down
        try:
            run.store_now(_set_threshold)
            for approver in APPROVERS:
                operator_cli(run.stack, "users", "add", approver, "--role", "approver", "--as", OPERATOR)
        except Exception as exc:
            injection.problems.append(f"the desk could not be set up: {exc!r}")
    time.sleep(run.settings.tradeflow_role_cache_s + 1)  # every process's role cache sees the approvers


async def _set_threshold(store: TradeStore) -> None:
    for _ in range(5):
        limits = await store.get_limits()
        if limits.desk.approval_notional == THRESHOLD:
            return
        desk = RiskLimits(approval_notional=THRESHOLD, updated_by="campaign", updated_at=datetime.now(UTC))
        if await store.put_limits(
            DeskLimits(desk=desk, users=limits.users, accounts=limits.accounts), limits.version
        ):
            return


def awaiting_trade(
    run: KindRun, injection: Injection, rng: random.Random
) -> tuple[uuid.UUID, dict[str, Any]] | None:
    """A trade of 150 AAPL by a load user that awaits approval, and its message in the approvers' channel.

    A trade refused at validation meanwhile (the market closed by another fault, say) is left to the
    campaign's own checks, and another is submitted."""
    for _ in range(5):
        trade_id = _submit(run, injection, rng)
        if trade_id is None:
            return None
        deadline = time.monotonic() + POSTED_WITHIN_S
        next_look = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            for message in run.slack.messages(channel=APPROVERS_CHANNEL, kind="message"):
                if request_of(message) == str(trade_id):
                    injection.trade_ids.append(trade_id)
                    return trade_id, message
            if time.monotonic() > next_look:  # every 10 s: each look opens a store
                next_look += 10.0
                if _refused(run, trade_id):
                    break
            time.sleep(1.0)
        else:
            injection.trade_ids.append(trade_id)  # checked: it must still end decided once
            injection.problems.append(
                f"{trade_id}: not in the approvers' channel within {POSTED_WITHIN_S:.0f}s"
            )
            return None
    injection.problems.append("five trades in a row were refused before they could await approval")
    return None


def _refused(run: KindRun, trade_id: uuid.UUID) -> bool:
    try:
        record = run.store_now(lambda store: store.get_trade(trade_id))
    except Exception:  # the store down (another fault): look again
        return False
    return record is not None and record.status == "rejected" and record.approval is None


def _submit(run: KindRun, injection: Injection, rng: random.Random) -> uuid.UUID | None:
    """One Execute Trade click by a load user, kept for the campaign's checks too."""
    user = run.user(rng)
    body = submission(user, "AAPL", SIZE, "buy")
    trade_id = trade_id_of(body)
    for _ in range(10):  # refused (RabbitMQ blocked, say): the trader clicks again, the same modal
        answer = run.probes.post(body)
        if answer == "accepted":
            run.probes.keep(trade_id, True)
            return trade_id
        time.sleep(3.0)
    run.probes.keep(trade_id, False, answer)
    injection.problems.append(f"{trade_id}: never accepted ({answer})")
    return None


def request_of(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != "tradeflow_approval_request":
        return None
    return str((metadata.get("event_payload") or {}).get("trade_id"))


async def click_at_once(run: KindRun, request: dict[str, Any], pair: list[tuple[str, str]]) -> list[str]:
    """Both clicks at the same moment; a pair the ingress could not act on (an outage) is clicked again."""
    answers: list[str] = []
    for _ in range(20):
        said = await asyncio.gather(*(click(run, request, action, user) for action, user in pair))
        answers += said
        if any(word != "unavailable" for word in said):
            return answers
        await asyncio.sleep(3.0)
    return answers


async def click(run: KindRun, request: dict[str, Any], action: str, user: str) -> str:
    """One click in the approvers' channel, as Slack posts it; the ephemeral answer in a word."""
    driver = SlackDriver(run.stack.ingress_url, run.settings.slack_signing_secret, run.slack, user_id=user)
    before = len(run.slack.messages(user=user, kind="response_url"))
    try:
        await driver.block_action(request, action, user_id=user)
    except Exception as exc:  # no answer within Slack's 3 s: the click may or may not have been acted on
        return f"no answer ({type(exc).__name__})"
    texts = [str(m.get("text")) for m in run.slack.messages(user=user, kind="response_url")[before:]]
    return next((_word(text) for text in texts), "no answer")


def _word(text: str) -> str:
    for start, word in (
        ("Approval sent", "approve sent"),
        ("Rejection sent", "reject sent"),
        ("Already", "already decided"),
        ("Too late", "too late"),
        ("I can't reach", "unavailable"),
    ):
        if text.startswith(start):
            return word
    return f"other: {text[:60]}"
