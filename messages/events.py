"""The command and events that travel down the chain: one tagged union, decoded once at the edge."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from messages.alerts import SendAlert
from messages.records import ApprovalDecision, Position
from messages.trade import Execution, ExecutionError, Fill, Rejection, TradeRequest
from messages.types import UserId


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every wire message; the tag is the class name."""

    trade: TradeRequest

    @property
    def trade_id(self) -> str:
        return str(self.trade.trade_id)


class SubmitTrade(Message, tag="SubmitTrade", frozen=True, kw_only=True):
    """Execute this trade: published by the Slack ingress or `tradeflow submit`."""


class TradeValidated(Message, tag="TradeValidated", frozen=True, kw_only=True):
    validated_at: datetime


class TradeRejected(Message, tag="TradeRejected", frozen=True, kw_only=True):
    reasons: tuple[Rejection, ...]
    rejected_at: datetime


class TradeRecorded(Message, tag="TradeRecorded", frozen=True, kw_only=True):
    recorded_at: datetime


class TradeExecuted(Message, tag="TradeExecuted", frozen=True, kw_only=True):
    execution: Execution


class TradeFailed(Message, tag="TradeFailed", frozen=True, kw_only=True):
    error: ExecutionError
    failed_at: datetime


class TradeWorking(Message, tag="TradeWorking", frozen=True, kw_only=True):
    """The order rests at the stock broker (or could not be found yet); its outcome comes later."""

    state: Literal["working", "unknown"]
    alpaca_order_id: str | None = None
    reason: str = ""
    fills: tuple[Fill, ...] = ()


class ReconcileTrade(Message, tag="ReconcileTrade", frozen=True, kw_only=True):
    """Settle an open trade with the stock broker: look its order up by client order id, never place one."""

    reason: str = ""
    attempt: int = 0
    delay_ms: int = 0  # how long the queue holds the message before delivering it
    # False: look once and stop, even if the order still rests (the sender, the sweeper, looks again itself).
    recheck: bool = True


class SweepOpenTrades(msgspec.Struct, tag="SweepOpenTrades", tag_field="type", frozen=True, kw_only=True):
    """Send a ReconcileTrade for each trade stuck open past the deadline, then sweep again an interval later.

    Carries no trade: it is the sweeper's own tick. A lease in the store lets one chain of ticks live.
    """

    reason: str = ""
    seeded: bool = False  # a worker's boot seed: finding the lease held, it waits the lease out once
    delay_ms: int = 0
    # What drifted from Alpaca's positions at the last sweep (SYMBOL:SHARES): a drift seen again is named.
    drift: tuple[str, ...] = ()


class CancelOrder(Message, tag="CancelOrder", frozen=True, kw_only=True):
    """Cancel the trade's working order at the stock broker: asked by its owner or an operator.

    One cancel per trade: `command_id` is `cancel_command_id(trade_id)`, so a double click, a redelivery and
    a `cancel all` that meets the same order are one request to the stock broker.
    """

    command_id: uuid.UUID
    requested_by: UserId
    requested_at: datetime
    source: str = "slack"


class CancelRefused(Message, tag="CancelRefused", frozen=True, kw_only=True):
    """The stock broker would not cancel (the order filled or ended first): the trader is told why."""

    command_id: uuid.UUID
    requested_by: UserId
    code: str  # TOO_LATE: the order had ended; NOT_AT_BROKER: no order to cancel
    message: str


class ModifyOrder(Message, tag="ModifyOrder", frozen=True, kw_only=True):
    """Replace the trade's working order at the stock broker with `replacement` (Alpaca's replace order).

    The replacement is a trade of its own: its trade id is the new order's client order id (one trade, one
    order), the same trader, symbol, side and order type, with the new quantity, prices or time in force.
    The original trade ends with what had filled (its order `replaced`); the replacement rests in its place.
    `command_id` is the replacement's trade id: a double submit is one request to Alpaca.
    """

    replacement: TradeRequest
    requested_by: UserId
    requested_at: datetime
    source: str = "slack"

    @property
    def command_id(self) -> uuid.UUID:
        return self.replacement.trade_id


CANCEL_NAMESPACE = uuid.UUID("5d8f3c1e-6a55-4c0b-9d57-2f6a9e0c7b11")


def cancel_command_id(trade_id: uuid.UUID) -> uuid.UUID:
    """The one cancel command a trade can have (uuid5 of its id): asked twice, it is the same command."""
    return uuid.uuid5(CANCEL_NAMESPACE, str(trade_id))


class PositionUpdated(Message, tag="PositionUpdated", frozen=True, kw_only=True):
    execution: Execution
    position: Position


class TradeHeld(Message, tag="TradeHeld", frozen=True, kw_only=True):
    """The trade is held before it was recorded, and the trader is told without the store's help.

    `delayed`: a store outage keeps it waiting; it goes on by itself when the store is back. `not_executed`:
    it was dead-lettered before it was recorded, so nothing reached the stock broker; an operator may
    replay it (`tradeflow dlq replay`), and the trader then hears its outcome as usual.
    """

    state: Literal["delayed", "not_executed"]
    reason: str
    stage: str  # where it is held
    held_at: datetime


class ApprovalRequested(Message, tag="ApprovalRequested", frozen=True, kw_only=True):
    """The trade waits for an approver: the approvers' channel is asked, the trader told it waits."""

    notional: Decimal | None = None  # None: not known before the order
    threshold: Decimal
    requested_at: datetime
    expires_at: datetime


class DecideApproval(Message, tag="DecideApproval", frozen=True, kw_only=True):
    """Decide a waiting trade: an approver's click (approve, reject), the trader's cancel (withdraw) or the
    sweeper once its time ran out (expire). The first decision written wins; the others change nothing."""

    decision: Literal["approve", "reject", "expire", "withdraw"]
    decided_by: UserId  # "tradeflow" for an expiry
    decided_at: datetime
    source: str = "slack"


class ApprovalDecided(Message, tag="ApprovalDecided", frozen=True, kw_only=True):
    """How a waiting trade was decided: the approvers' message shows it (and an approved trader is told)."""

    decision: ApprovalDecision
    decided_by: str
    decided_at: datetime
    notional: Decimal | None = None  # as the request said, for the approvers' message
    threshold: Decimal | None = None


AnyMessage = (
    SubmitTrade
    | TradeValidated
    | TradeRejected
    | TradeRecorded
    | TradeExecuted
    | TradeFailed
    | TradeWorking
    | ReconcileTrade
    | PositionUpdated
    | SweepOpenTrades
    | SendAlert
    | TradeHeld
    | CancelOrder
    | CancelRefused
    | ModifyOrder
    | ApprovalRequested
    | DecideApproval
    | ApprovalDecided
)
