"""The chain on one screen: which stage consumes which message, and where each outcome goes next.

Pure data: a publisher (the ingress, the CLI) routes through this table without loading any handler;
the handler each stage runs is bound in chain/stage_handlers.py, which only worker processes load.
"""

from __future__ import annotations

from dataclasses import dataclass

from messages.alerts import SendAlert
from messages.events import (
    AnyMessage,
    ApprovalDecided,
    ApprovalRequested,
    CancelOrder,
    CancelRefused,
    DecideApproval,
    ModifyOrder,
    PositionUpdated,
    ReconcileTrade,
    SubmitTrade,
    SweepOpenTrades,
    TradeExecuted,
    TradeFailed,
    TradeHeld,
    TradeRecorded,
    TradeRejected,
    TradeValidated,
    TradeWorking,
)

# A handler returns the next message, several (each routed on its own), or nothing.
Output = AnyMessage | tuple[AnyMessage, ...] | None


@dataclass(frozen=True)
class Stage:
    name: str  # also the actor name and the queue name (before any prefix)
    consumes: tuple[type[AnyMessage], ...]


STAGES: tuple[Stage, ...] = (
    Stage("validation", (SubmitTrade, DecideApproval)),
    Stage("persistence", (TradeValidated,)),
    Stage("execution", (TradeRecorded, ReconcileTrade, CancelOrder, ModifyOrder)),
    Stage("positions", (TradeExecuted,)),
    Stage(
        "notifications",
        (
            PositionUpdated,
            TradeFailed,
            TradeRejected,
            TradeWorking,
            TradeHeld,
            CancelRefused,
            ApprovalRequested,
            ApprovalDecided,
        ),
    ),
)

# Beside the chain, on queues of their own: the sweeper, which feeds the chain (no stage's outcome goes to
# it), and the alerts service, which sends each alert any stage raises outside Slack (email, SMS).
SERVICES: tuple[Stage, ...] = (Stage("sweeper", (SweepOpenTrades,)), Stage("alerts", (SendAlert,)))

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
