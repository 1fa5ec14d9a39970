"""LogNotifier: writes the seed's messages to the log (and an optional outbox file) instead of Slack."""

from __future__ import annotations

import logging
from pathlib import Path

from messages.events import CancelRefused, PositionUpdated, TradeFailed, TradeHeld, TradeWorking
from workers.handlers.ports import Outcome, notice_of
from workers.notify.templates import (
    cancel_refused_text,
    failure_text,
    held_text,
    rejection_text,
    success_text,
    working_text,
)

logger = logging.getLogger("tradeflow.notifications")


def render(outcome: Outcome) -> str:
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

    async def notify(self, outcome: Outcome) -> None:
        text = render(outcome)
        logger.info("to %s (trade %s):\n%s", outcome.trade.user_id, outcome.trade_id, text)
        if self.outbox is not None:
            self.outbox.parent.mkdir(parents=True, exist_ok=True)
            with self.outbox.open("a", encoding="utf-8") as out:
                out.write(f"--- to {_header(outcome)}\n{text}\n\n")

    async def already_told(self, outcome: Outcome) -> bool:
        """Whether the outbox holds this notice for the trade (without an outbox, nobody can tell: no)."""
        if self.outbox is None or not self.outbox.exists():
            return False
        wanted = f"{_header(outcome)}\n"
        return any(
            entry.startswith(wanted) for entry in self.outbox.read_text(encoding="utf-8").split("--- to ")
        )

    async def close(self) -> None:
        return None


def _header(outcome: Outcome) -> str:
    """Who, which trade and which of its notices (notice_of): how the outbox finds a notice again."""
    return f"{outcome.trade.user_id} · trade {outcome.trade_id} · {notice_of(outcome)}"
