"""The notifications stage's messages: a trader's notice, or an approval request or decision to show."""

from __future__ import annotations

from messages.events import ApprovalDecided, ApprovalRequested
from workers.handlers.approvals.notices import notify_approval
from workers.handlers.deps import Deps
from workers.handlers.notification import notify_trader
from workers.handlers.ports import Notice


async def notifications_stage(event: Notice, deps: Deps) -> None:
    """Tell the trader (once per fact); ask the approvers, or show them the decision."""
    if isinstance(event, ApprovalRequested | ApprovalDecided):
        await notify_approval(event, deps)
    else:
        await notify_trader(event, deps)
