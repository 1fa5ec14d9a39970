"""The command and events that travel down the chain: one tagged union, decoded once at the edge."""

from __future__ import annotations

from datetime import datetime

import msgspec

from messages.records import Position
from messages.trade import Execution, ExecutionError, Rejection, TradeRequest


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


class PositionUpdated(Message, tag="PositionUpdated", frozen=True, kw_only=True):
    execution: Execution
    position: Position


AnyMessage = (
    SubmitTrade
    | TradeValidated
    | TradeRejected
    | TradeRecorded
    | TradeExecuted
    | TradeFailed
    | PositionUpdated
)
