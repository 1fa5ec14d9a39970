"""LogNotifier: writes the seed's messages to the log (and an optional outbox file) instead of Slack."""

from __future__ import annotations

import logging
from pathlib import Path

from messages.events import (
    ApprovalDecided,
    ApprovalRequested,
    CancelRefused,
    PositionUpdated,
    TradeFailed,
    TradeHeld,
    TradeWorking,
)
from workers.handlers.ports import ApprovalPost, Notice, notice_of
from workers.notify.approval_texts import approved_text, awaiting_text, decision_text, request_text
from workers.notify.templates import (
    cancel_refused_text,
    failure_text,
    held_text,
    rejection_text,
    success_text,
    working_text,
)

logger = logging.getLogger("tradeflow.notifications")


def render(outcome: Notice) -> str:
    if isinstance(outcome, ApprovalRequested):
        return awaiting_text(outcome)
    if isinstance(outcome, ApprovalDecided):
        return approved_text(outcome)
    if isinstance(outcome, PositionUpdated):
        return success_text(outcome)
    if isinstance(outcome, TradeFailed):
        return failure_text(outcome)
    if isinstance(outcome, TradeWorking):
        return working_text(outcome)
    if isinstance(outcome, TradeHeld):
        return held_text(outcome)
    if isinstance(outcome, CancelRefused):
        return cancel_refused_text(outcome)
    return rejection_text(outcome)


class LogNotifier:
    """Notifies by logging; with an outbox path, appends each message there too (the demo's 'DM')."""

    name = "log"

    def __init__(self, outbox: Path | None = None) -> None:
        self.outbox = outbox

    async def notify(self, outcome: Notice) -> None:
        text = render(outcome)
        logger.info("to %s (trade %s):\n%s", outcome.trade.user_id, outcome.trade_id, text)
        self._write(_header(outcome), text)

    async def already_told(self, outcome: Notice) -> bool:
        """Whether the outbox holds this notice for the trade (without an outbox, nobody can tell: no)."""
        return self._holds(_header(outcome))

    async def ask_approvers(self, request: ApprovalRequested) -> ApprovalPost:
        """The request in the log (and the outbox, under "approvers"); its "ts" is the trade id."""
        text = request_text(request)
        logger.info("to the approvers (trade %s):\n%s", request.trade_id, text)
        self._write(_approvers_header(request.trade_id, "approval_request"), text)
        return ApprovalPost(channel=APPROVERS, ts=request.trade_id)

    async def find_approval_post(self, request: ApprovalRequested) -> ApprovalPost | None:
        found = self._holds(_approvers_header(request.trade_id, "approval_request"))
        return ApprovalPost(channel=APPROVERS, ts=request.trade_id) if found else None

    async def show_decision(self, post: ApprovalPost, decided: ApprovalDecided) -> None:
        text = decision_text(decided)
        logger.info("to the approvers (trade %s):\n%s", decided.trade_id, text)
        self._write(_approvers_header(decided.trade_id, f"approval_{decided.decision}"), text)

    def _write(self, header: str, text: str) -> None:
        if self.outbox is not None:
            self.outbox.parent.mkdir(parents=True, exist_ok=True)
            with self.outbox.open("a", encoding="utf-8") as out:
                out.write(f"--- to {header}\n{text}\n\n")

    def _holds(self, header: str) -> bool:
        if self.outbox is None or not self.outbox.exists():
            return False
        wanted = f"{header}\n"
        return any(
            entry.startswith(wanted) for entry in self.outbox.read_text(encoding="utf-8").split("--- to ")
        )

    async def close(self) -> None:
        return None


APPROVERS = "approvers"


def _approvers_header(trade_id: str, notice: str) -> str:
    return f"{APPROVERS} · trade {trade_id} · {notice}"


def _header(outcome: Notice) -> str:
    """Who, which trade and which of its notices (notice_of): how the outbox finds a notice again."""
    return f"{outcome.trade.user_id} · trade {outcome.trade_id} · {notice_of(outcome)}"
