"""LogNotifier: writes the seed's messages to the log (and an optional outbox file) instead of Slack."""

from __future__ import annotations

import logging
from pathlib import Path

from messages.events import PositionUpdated, TradeFailed, TradeWorking
from workers.handlers.ports import Outcome, notice_of
from workers.notify.templates import failure_text, rejection_text, success_text, working_text

logger = logging.getLogger("tradeflow.notifications")
WORKING_MARKS = ("🕐", "⏳")  # the first character of working_text's two titles


def render(outcome: Outcome) -> str:
    if isinstance(outcome, PositionUpdated):
        return success_text(outcome)
    if isinstance(outcome, TradeFailed):
        return failure_text(outcome)
    if isinstance(outcome, TradeWorking):
        return working_text(outcome)
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
                out.write(f"--- to {outcome.trade.user_id} · trade {outcome.trade_id}\n{text}\n\n")

    async def already_told(self, outcome: Outcome) -> bool:
        """Whether the outbox holds this notice for the trade (without an outbox, nobody can tell: no)."""
        if self.outbox is None or not self.outbox.exists():
            return False
        header = f"{outcome.trade.user_id} · trade {outcome.trade_id}\n"
        for entry in self.outbox.read_text(encoding="utf-8").split("--- to ")[1:]:
            if entry.startswith(header):
                body = entry[len(header) :]
                if ("working" if body.startswith(WORKING_MARKS) else "outcome") == notice_of(outcome):
                    return True
        return False

    async def close(self) -> None:
        return None
