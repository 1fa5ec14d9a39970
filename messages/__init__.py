"""tradeflow's wire contract: frozen msgspec Structs in one tagged union; no I/O."""

from messages.codec import MessageDecodeError, decode, encode, from_payload, to_payload
from messages.events import (
    AnyMessage,
    Message,
    PositionUpdated,
    ReconcileTrade,
    SubmitTrade,
    SweepOpenTrades,
    TradeExecuted,
    TradeFailed,
    TradeRecorded,
    TradeRejected,
    TradeValidated,
    TradeWorking,
)
from messages.records import AuditEvent, KillSwitch, Position, TradeRecord, pending_record
from messages.trade import Execution, ExecutionError, Rejection, TradeRequest

__all__ = [
    "AnyMessage",
    "AuditEvent",
    "Execution",
    "ExecutionError",
    "KillSwitch",
    "Message",
    "MessageDecodeError",
    "Position",
    "PositionUpdated",
    "ReconcileTrade",
    "Rejection",
    "SubmitTrade",
    "SweepOpenTrades",
    "TradeExecuted",
    "TradeFailed",
    "TradeRecord",
    "TradeRecorded",
    "TradeRejected",
    "TradeRequest",
    "TradeValidated",
    "TradeWorking",
    "decode",
    "encode",
    "from_payload",
    "pending_record",
    "to_payload",
]
