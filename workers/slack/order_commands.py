"""What a trader does to orders already sent: `/trade cancel …` and the Cancel buttons, `/trade modify …` and
the Modify buttons (a modal), `/trade close …`.

Each answer is for the trader's eyes only and says what was asked at once; what Alpaca then did reaches them
as the trade's own notice (canceled, or filled if the cancel came too late; a close's execution). A cancel
is a CancelOrder to the execution stage, a close a market SubmitTrade down the whole chain, so validation,
the audit trail, positions and the notice all apply to it. The reads and the publish are bounded so the
answer stays inside Slack's 3 seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from messages.events import AnyMessage, ModifyOrder, SubmitTrade
from messages.records import TradeRecord
from workers.handlers.cancel_requests import BadCancel, describe, plan_cancel
from workers.handlers.ports import RoleReader
from workers.handlers.position_closes import BadClose, closing_trades
from workers.slack.blocks import CANCEL_ACTION
from workers.slack.forms import QUANTITY
from workers.slack.modify_form import (
    MODIFY_ACTION,
    MODIFY_CALLBACK_ID,
    modified_view,
    modify_modal,
    read_modify,
)
from workers.slack.submissions import Submissions, Submitted
from workers.store.port import TradeStore

__all__ = [
    "CANCEL_ACTION",
    "MODIFY_ACTION",
    "MODIFY_CALLBACK_ID",
    "ORDER_WORDS",
    "OrderCommands",
    "modified_view",
]

logger = logging.getLogger("tradeflow.ingress")

ORDER_WORDS = ("cancel", "close", "modify")  # `/trade WORD …` handled here
READ_TIMEOUT_S = 1.5
SEND_TIMEOUT_S = 1.0
NOT_A_TRADER = "You can't change orders here yet: ask an admin to grant you the *trader* role."
UNAVAILABLE = "I can't reach the trading system right now, and nothing was changed: try again in a moment."


class OrderCommands:
    def __init__(
        self,
        *,
        store: TradeStore,
        roles: RoleReader,
        send: Callable[[AnyMessage], None],
        submissions: Submissions,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.roles = roles
        self.send = send
        self.submissions = submissions
        self.clock = clock

    async def cancel(self, user_id: str, target: str, *, source: str) -> str:
        """Cancel one working order (trade id), a symbol's, or all of the trader's (`all`)."""
        operator = await self.roles.has_role(user_id, "operator")
        if not operator and not await self.roles.has_role(user_id, "trader"):
            return NOT_A_TRADER
        if not target:
            return "Say which order to cancel: `/trade cancel TRADE_ID`, `/trade cancel AAPL` or `all`."
        try:
            plan = await asyncio.wait_for(
                plan_cancel(
                    self.store, target, requester=user_id, operator=operator, at=self.clock(), source=source
                ),
                READ_TIMEOUT_S,
            )
            for command in plan.commands:
                await asyncio.wait_for(asyncio.to_thread(self.send, command), SEND_TIMEOUT_S)
        except BadCancel as refused:
            return str(refused)
        except Exception as exc:  # the store or RabbitMQ down or slow: a cancel already sent is idempotent
            logger.warning("Cancel %r by %s not sent: %r", target, user_id, exc)
            return UNAVAILABLE
        logger.info("Cancel of %d order(s) requested by %s (%s)", len(plan.commands), user_id, target)
        return describe(plan, target)

    async def modifiable(self, user_id: str, target: str) -> TradeRecord | str:
        """The working order `/trade modify TRADE_ID` (or its Modify button) names, or why it cannot be."""
        operator = await self.roles.has_role(user_id, "operator")
        if not operator and not await self.roles.has_role(user_id, "trader"):
            return NOT_A_TRADER
        try:
            trade_id = uuid.UUID(target.strip())
        except ValueError:
            return "Say which order to modify: `/trade modify TRADE_ID` (`/trade orders` lists them)."
        try:
            record = await asyncio.wait_for(self.store.get_trade(trade_id), READ_TIMEOUT_S)
        except Exception as exc:
            logger.warning("Trade %s not read for a modify: %r", trade_id, exc)
            return UNAVAILABLE
        if record is None or (record.user_id != user_id and not operator):
            return f"No trade of yours has the id {trade_id}: check it with `/trade orders`"
        if record.is_terminal:
            return f"Trade {trade_id} is already {record.status}: there is nothing left to modify"
        if record.order_type == "market":
            return "A market order cannot be modified: cancel it instead (`/trade cancel TRADE_ID`)."
        return record

    async def open_modify(self, client: AsyncWebClient, trigger_id: str, record: TradeRecord) -> None:
        await client.views_open(trigger_id=trigger_id, view=modify_modal(record, uuid.uuid4()))

    async def submit_modify(self, view: dict[str, Any], user_id: str) -> ModifyOrder | dict[str, str]:
        """The modify modal submitted: the ModifyOrder sent, or errors under the blocks at fault."""
        metadata = json.loads(view.get("private_metadata") or "{}")
        found = await self.modifiable(user_id, str(metadata.get("trade_id") or ""))
        if isinstance(found, str):
            return {QUANTITY: found}
        command = read_modify(view, found, user_id=user_id, now=self.clock())
        if isinstance(command, dict):
            return command
        try:
            await asyncio.wait_for(asyncio.to_thread(self.send, command), SEND_TIMEOUT_S)
        except Exception as exc:  # sent again by the next press: the replacement's id makes it one modify
            logger.warning("Modify of %s not sent: %r", found.trade_id, exc)
            return {QUANTITY: UNAVAILABLE}
        logger.info("Modify of trade %s sent by %s", found.trade_id, user_id)
        return command

    async def close(self, user_id: str, target: str, *, channel_id: str | None) -> str:
        """Flatten the trader's position in one symbol, or every position (`all`), at market."""
        if not await self.roles.has_role(user_id, "trader"):
            return NOT_A_TRADER
        if not target.strip():
            return "Say what to close: `/trade close AAPL` or `/trade close all`."
        try:
            trades = await asyncio.wait_for(
                closing_trades(
                    self.store, user_id, target, channel_id=channel_id, at=self.clock(), source="slack_close"
                ),
                READ_TIMEOUT_S,
            )
        except BadClose as refused:
            return str(refused)
        except Exception as exc:
            logger.warning("Positions of %s not read for a close: %r", user_id, exc)
            return UNAVAILABLE
        lines = [await self._submit(SubmitTrade(trade=trade)) for trade in trades]
        return "\n".join(["*Closing at market*", *lines, "You will get each trade's outcome as a message."])

    async def _submit(self, command: SubmitTrade) -> str:
        trade = command.trade
        order = f"{trade.side.upper()} {trade.size_text} {trade.symbol}"
        try:
            outcome, _ = await self.submissions.submit(command)
        except Exception as exc:
            logger.warning("Close %s NOT submitted: %r", trade.trade_id, exc)
            outcome = Submitted.FAILED
        if outcome is Submitted.CONFIRMED:
            return f"• {order} submitted · `{trade.trade_id}`"
        if outcome is Submitted.UNCONFIRMED:
            return f"• {order} not confirmed yet: it may still go through (never twice) · `{trade.trade_id}`"
        return f"• {order} NOT submitted: nothing was placed, try again in a moment"
