"""The handler each stage of the routing table runs: loaded by worker processes only, never by a publisher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from messages.events import CancelOrder, ModifyOrder, ReconcileTrade, TradeRecorded
from workers.chain.routing import Output
from workers.handlers.alerts import send_alert
from workers.handlers.cancels import cancel_order
from workers.handlers.deps import Deps
from workers.handlers.execution import execute_trade
from workers.handlers.modifies import modify_order
from workers.handlers.notices import notifications_stage
from workers.handlers.persistence import record_trade
from workers.handlers.positions import update_position
from workers.handlers.sweeper import sweep_open_trades
from workers.handlers.validation_stage import validation_stage

Handler = Callable[[Any, Deps], Awaitable[Output]]


async def execution_stage(
    event: TradeRecorded | ReconcileTrade | CancelOrder | ModifyOrder, deps: Deps
) -> Output:
    """Where Alpaca is called: a trade's order placed or settled, canceled or modified."""
    if isinstance(event, CancelOrder):
        return await cancel_order(event, deps)
    if isinstance(event, ModifyOrder):
        return await modify_order(event, deps)
    return await execute_trade(event, deps)


# By stage name (routing.STAGES and routing.SERVICES): every stage has exactly one.
STAGE_HANDLERS: dict[str, Handler] = {
    "validation": validation_stage,
    "persistence": record_trade,
    "execution": execution_stage,
    "positions": update_position,
    "notifications": notifications_stage,
    "sweeper": sweep_open_trades,
    "alerts": send_alert,
}
