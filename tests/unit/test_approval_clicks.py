"""The approvers' buttons at the ingress: each click checked and answered at once, a decision sent only when
it may be made; the approvers' message, the trader's notices and the modal as Slack shows them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from messages.events import AnyMessage, ApprovalDecided, ApprovalRequested, DecideApproval
from tests.unit.test_approvals import APPROVER, click, deps_with, held
from workers.handlers.approvals import decide_approval
from workers.slack.approval_blocks import APPROVE_ACTION, REJECT_ACTION, decided_message, request_message
from workers.slack.approvals import NOT_AN_APPROVER, OWN_TRADE, ApprovalClicks
from workers.slack.views import outcome_view


def clicks_on(deps: object) -> tuple[ApprovalClicks, list[AnyMessage]]:
    sent: list[AnyMessage] = []
    return ApprovalClicks(store=deps.store, roles=deps.roles, send=sent.append), sent  # type: ignore[attr-defined]


async def test_a_self_approval_and_a_non_approvers_click_are_refused_and_nothing_is_sent() -> None:
    deps = deps_with()
    request, _ = await held(deps, user_id="U456")  # a trader who is an approver too
    clicks, sent = clicks_on(deps)
    own = await clicks.click("U456", str(request.trade_id), "approve")
    assert (own.text, own.refused) == (OWN_TRADE, True)
    stranger = await clicks.click("U999", str(request.trade_id), "reject")
    assert (stranger.text, stranger.refused) == (NOT_AN_APPROVER, True)
    assert sent == []


async def test_an_approvers_click_sends_one_decision_and_a_click_after_it_is_told_who_decided() -> None:
    deps = deps_with()
    request, _ = await held(deps)
    clicks, sent = clicks_on(deps)
    answer = await clicks.click(APPROVER, str(request.trade_id), "approve")
    assert answer.outcome == "approve_sent" and answer.text.startswith("Approval sent")
    [decision] = sent
    assert isinstance(decision, DecideApproval) and decision.decided_by == APPROVER
    assert decision.decision == "approve" and decision.trade.trade_id == request.trade_id
    await decide_approval(decision, deps)
    again = await clicks.click("U0APPROVER2", str(request.trade_id), "reject")
    assert again.outcome == "already_decided" and not again.refused
    assert again.text.startswith(f"Already approved by <@{APPROVER}> at ")
    assert len(sent) == 1


async def test_a_click_naming_no_trade_changes_nothing() -> None:
    deps = deps_with()
    clicks, sent = clicks_on(deps)
    assert (await clicks.click(APPROVER, "not-a-trade", "approve")).outcome == "bad_value"
    assert (await clicks.click(APPROVER, str(uuid.uuid4()), "approve")).outcome == "unknown"
    assert sent == []


async def test_the_approvers_message_has_both_buttons_and_its_decided_form_none() -> None:
    deps = deps_with()
    request, asked = await held(deps)
    requested = asked[0]
    assert isinstance(requested, ApprovalRequested)
    blocks, text = request_message(requested)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    approve, reject = actions["elements"]
    assert (approve["action_id"], approve["value"], approve["style"]) == (
        APPROVE_ACTION,
        str(request.trade_id),
        "primary",
    )
    assert (reject["action_id"], reject["style"]) == (REJECT_ACTION, "danger") and "confirm" in reject
    shown = json.dumps(blocks)
    assert "$20,000.00" in shown and "$10,000.00" in shown and "<@U123>" in shown and "<@U123>" in text
    at = datetime(2026, 12, 7, 14, 32, tzinfo=UTC)
    decided = ApprovalDecided(
        trade=request, decision="rejected", decided_by=APPROVER, decided_at=at, notional=Decimal(20_000)
    )
    blocks, text = decided_message(decided)
    assert not any(b["type"] == "actions" for b in blocks)
    assert f"Rejected by <@{APPROVER}> at 14:32 UTC" in json.dumps(blocks) and "Rejected" in text


async def test_the_modal_says_the_trade_awaits_approval_then_that_it_was_approved() -> None:
    deps = deps_with()
    request, asked = await held(deps)
    waiting = outcome_view(asked[0])
    assert waiting["title"]["text"] == "Awaiting Approval" and "expires at" in json.dumps(waiting)
    decided = await decide_approval(click(request, "approve", APPROVER, at=datetime.now(UTC)), deps)
    assert decided is not None
    approved = outcome_view(decided[1])
    assert approved["title"]["text"] == "Approved" and "sending it to Alpaca" in json.dumps(approved)


async def test_a_click_after_the_request_expired_is_answered_too_late() -> None:
    deps = deps_with()
    request, _ = await held(deps)
    record = await deps.store.get_trade(request.trade_id)
    assert record is not None and record.approval is not None
    late = record.approval.expires_at + timedelta(seconds=5)
    sent: list[AnyMessage] = []
    clicks = ApprovalClicks(store=deps.store, roles=deps.roles, send=sent.append, clock=lambda: late)
    answer = await clicks.click(APPROVER, str(request.trade_id), "approve")
    assert answer.outcome == "expired" and answer.text.startswith("Too late")
    [decision] = sent
    assert isinstance(decision, DecideApproval)
    outcome = await decide_approval(decision, deps)
    assert (
        outcome is not None and isinstance(outcome[1], ApprovalDecided) and outcome[1].decision == "expired"
    )
