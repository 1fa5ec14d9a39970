"""The validation stage's two messages: a submitted trade to judge, or an approver's decision on one."""

from __future__ import annotations

from messages.events import DecideApproval, SubmitTrade, TradeRejected, TradeValidated
from workers.handlers.approvals import Decided, Held, decide_approval
from workers.handlers.deps import Deps
from workers.handlers.validation import validate_trade


async def validation_stage(
    event: SubmitTrade | DecideApproval, deps: Deps
) -> TradeValidated | TradeRejected | Held | Decided:
    """Judge the trade (its checks, then the approval gate), or decide the trade that awaits approval."""
    if isinstance(event, DecideApproval):
        return await decide_approval(event, deps)
    return await validate_trade(event, deps)
