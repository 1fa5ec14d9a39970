"""The chain on one screen: which stage consumes which message, and where each outcome goes next."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from messages.events import (
    AnyMessage,
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
from workers.handlers.deps import Deps
from workers.handlers.execution import execute_trade
from workers.handlers.notification import notify_trader
from workers.handlers.persistence import record_trade
from workers.handlers.positions import update_position
from workers.handlers.sweeper import sweep_open_trades
from workers.handlers.validation import validate_trade

# A handler returns the next message, several (each routed on its own), or nothing.
Output = AnyMessage | tuple[AnyMessage, ...] | None
Handler = Callable[[Any, Deps], Awaitable[Output]]


@dataclass(frozen=True)
class Stage:
    name: str  # also the actor name and the queue name (before any prefix)
    consumes: tuple[type[AnyMessage], ...]
    handler: Handler


STAGES: tuple[Stage, ...] = (
    Stage("validation", (SubmitTrade,), validate_trade),
    Stage("persistence", (TradeValidated,), record_trade),
    Stage("execution", (TradeRecorded, ReconcileTrade), execute_trade),
    Stage("positions", (TradeExecuted,), update_position),
    Stage("notifications", (PositionUpdated, TradeFailed, TradeRejected, TradeWorking), notify_trader),
)

# Beside the chain: actors on their own queues that feed the chain; no stage's outcome goes to them.
SERVICES: tuple[Stage, ...] = (Stage("sweeper", (SweepOpenTrades,), sweep_open_trades),)

# Each message type goes to exactly one stage or service.
NEXT_STAGE: dict[type[AnyMessage], str] = {
    kind: stage.name for stage in (*STAGES, *SERVICES) for kind in stage.consumes
}
STAGE_NAMES: tuple[str, ...] = tuple(stage.name for stage in STAGES)
SERVICE_NAMES: tuple[str, ...] = tuple(service.name for service in SERVICES)
# Every queue a worker consumes (`tradeflow worker` by default), each with its .DQ and .XQ.
QUEUE_NAMES: tuple[str, ...] = STAGE_NAMES + SERVICE_NAMES


def next_stage(message: AnyMessage) -> str:
    return NEXT_STAGE[type(message)]


def outputs(result: Output) -> tuple[AnyMessage, ...]:
    if result is None:
        return ()
    return result if isinstance(result, tuple) else (result,)
