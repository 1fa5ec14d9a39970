"""Four eyes from Slack's side over real sockets: a trade above the desk's approval threshold waits, the
approvers' channel gets it with Approve and Reject, the trader's own click is refused, an approver's click
sends it to Alpaca once, a click after that is told who decided; and a request nobody decides expires."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from messages.limits import DeskLimits, RiskLimits
from tests.e2e.stack import OPERATOR, SlackStack, Stack
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

APPROVERS = "C0APPROVALS"  # TRADEFLOW_APPROVERS_CHANNEL's default, the emulator's #trade-approvals
APPROVER = "U0APPROVER"


@pytest.fixture
def approval_env() -> dict[str, str]:
    return {}


@pytest.fixture
def stack_env(
    stack_env: tuple[dict[str, str], Any], approval_env: dict[str, str]
) -> tuple[dict[str, str], Any]:
    env, spans = stack_env
    return {**env, **approval_env}, spans


def _text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks"), ensure_ascii=False) + str(message.get("text"))


def _desk_threshold(stack: Stack, dollars: str) -> None:
    async def put(store: Any) -> None:
        current = await store.get_limits()
        limits = DeskLimits(desk=RiskLimits(approval_notional=Decimal(dollars)))
        assert await store.put_limits(limits, current.version)

    stack.store_call(put)


def _approver(stack: Stack, user_id: str) -> None:
    done = stack.cli("users", "add", user_id, "--role", "approver", "--as", OPERATOR)
    assert done.returncode == 0, done.stderr


async def _submit(flow: SlackStack, text: str) -> str:
    command = await flow.driver.slash_command(text)
    view = eventually(lambda: flow.driver.opened_view(command.trigger_id), timeout=10)
    answer = await flow.driver.submit_view(view)
    assert answer.body["response_action"] == "update"
    return str(json.loads(view["private_metadata"])["trade_id"])


def _request(flow: SlackStack, trade_id: str) -> dict[str, Any] | None:
    """The trade's message in the approvers' channel, as Slack holds it now."""
    posted = flow.slack.admin.messages(channel=APPROVERS, kind="message")
    return next((m for m in posted if trade_id in _text(m)), None)


def _answers_to(flow: SlackStack, user_id: str) -> list[str]:
    """The ephemeral answers a user got where they clicked."""
    return [str(m.get("text")) for m in flow.slack.admin.messages(user=user_id, kind="response_url")]


def _audit_types(stack: Stack, trade_id: str) -> list[str]:
    import uuid

    events = stack.store_call(lambda store: store.list_audit(uuid.UUID(trade_id)))
    return [event.event_type for event in events]


async def test_a_large_trade_waits_and_executes_once_on_an_approvers_click_never_on_its_traders(
    slack_stack: SlackStack,
) -> None:
    stack, driver = slack_stack.stack, slack_stack.driver
    stack.emulator.admin.set_price("AAPL", "200.00", freeze=True)
    _desk_threshold(stack, "5000")
    _approver(stack, APPROVER)
    _approver(stack, "U123")  # the trader is an approver too: still never of their own trade

    trade_id = await _submit(slack_stack, "buy 50 AAPL")  # $10,000 > $5,000
    request = eventually(lambda: _request(slack_stack, trade_id), timeout=60)
    assert stack.trade_status(trade_id) == "awaiting_approval"
    shown = _text(request)
    assert "approve_trade" in shown and "reject_trade" in shown and "$10,000.00" in shown
    [waiting] = eventually(lambda: driver.messages_to("U123"), timeout=30)
    assert "Awaiting Approval" in _text(waiting)
    assert stack.emulator.admin.orders(trade_id) == []  # nothing left for Alpaca

    refused = await driver.block_action(request, "approve_trade", user_id="U123")
    assert refused.status == 200
    assert any("your own trade" in a for a in _answers_to(slack_stack, "U123"))
    assert stack.trade_status(trade_id) == "awaiting_approval"

    approved = await driver.block_action(request, "approve_trade", user_id=APPROVER)
    assert approved.status == 200 and approved.elapsed_s < 3
    assert any(a.startswith("Approval sent") for a in _answers_to(slack_stack, APPROVER))
    eventually(lambda: stack.trade_status(trade_id) == "executed", timeout=60)
    [order] = stack.emulator.admin.orders(trade_id)
    assert order["status"] == "filled"

    await driver.block_action(request, "reject_trade", user_id=APPROVER)  # a click after the decision
    assert any(a.startswith(f"Already approved by <@{APPROVER}>") for a in _answers_to(slack_stack, APPROVER))
    decided = eventually(
        lambda: (m := _request(slack_stack, trade_id)) and m.get("updates") and m, timeout=30
    )
    assert "approve_trade" not in _text(decided) and f"Approved by <@{APPROVER}>" in _text(decided)
    done = eventually(
        lambda: any("Trade Executed Successfully" in _text(d) for d in driver.messages_to("U123")), timeout=60
    )
    dms = [_text(dm) for dm in driver.messages_to("U123")]
    assert done and "Awaiting Approval" in dms[0] and sum("Awaiting Approval" in dm for dm in dms) == 1
    # "Approved" comes before the execution's notice (one hop against three); later, it is stale news
    assert sum("Trade Executed Successfully" in dm for dm in dms) == 1 and len(dms) <= 3
    assert len(stack.emulator.admin.orders(trade_id)) == 1
    eventually(lambda: "approval_decision_posted" in _audit_types(stack, trade_id), timeout=30)
    types = _audit_types(stack, trade_id)
    assert types.count("trade_approved") == 1 and "trade_approval_rejected" not in types
    journal = stack.store_call(_access_refusals)
    assert any(e.actor == "U123" and e.details.get("outcome") == "own_trade" for e in journal)


async def _access_refusals(store: Any) -> list[Any]:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    entries = await store.list_activity("access", now - timedelta(minutes=10), now + timedelta(seconds=5))
    return [e for e in entries if e.event_type == "approval_refused"]


@pytest.mark.parametrize(
    "approval_env", [{"TRADEFLOW_APPROVAL_TTL_S": "3", "TRADEFLOW_SWEEP_INTERVAL_S": "1"}]
)
async def test_a_request_nobody_decides_expires_and_the_trader_is_told(slack_stack: SlackStack) -> None:
    stack, driver = slack_stack.stack, slack_stack.driver
    stack.emulator.admin.set_price("MSFT", "400.00", freeze=True)
    _desk_threshold(stack, "1000")

    trade_id = await _submit(slack_stack, "buy 5 MSFT")  # $2,000 > $1,000
    eventually(lambda: _request(slack_stack, trade_id), timeout=60)
    eventually(lambda: stack.trade_status(trade_id) == "rejected", timeout=60)
    eventually(lambda: len(driver.messages_to("U123")) == 2, timeout=60)
    told = _text(driver.messages_to("U123")[1])
    assert "APPROVAL_EXPIRED" in told and "No approver decided within" in told
    decided = eventually(
        lambda: (m := _request(slack_stack, trade_id)) and m.get("updates") and m, timeout=30
    )
    assert "Expired" in _text(decided) and "approve_trade" not in _text(decided)
    assert stack.emulator.admin.orders(trade_id) == []
