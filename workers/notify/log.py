"""LogNotifier: writes the seed's messages to the log (and an optional outbox file) instead of Slack."""

from __future__ import annotations

import logging
from pathlib import Path

from messages.events import PositionUpdated, TradeFailed, TradeWorking
from workers.handlers.ports import Outcome
from workers.notify.templates import failure_text, rejection_text, success_text, working_text

logger = logging.getLogger("tradeflow.notifications")


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

    async def close(self) -> None:
        return None
