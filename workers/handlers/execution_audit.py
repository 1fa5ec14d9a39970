"""What the execution stage records of an outcome: the seed's audit details, and the never-arrived verdict."""

from __future__ import annotations

from messages.trade import Execution, ExecutionError


def never_arrived() -> ExecutionError:
    """An order still not found long after its trade was recorded never reached Alpaca."""
    return ExecutionError(
        code="BROKER_UNAVAILABLE",
        message="The order never reached Alpaca (no order exists for this trade); nothing was executed",
        next_steps=("Submit the trade again",),
        execution_method="alpaca",
    )


def execution_details(execution: Execution) -> dict[str, object]:
    """The seed's audit "details" for trade_executed."""
    return {
        "execution_id": str(execution.execution_id),
        "execution_success": True,
        "execution_method": execution.execution_method,
        "alpaca_order_id": execution.alpaca_order_id,
        "execution_price": str(execution.execution_price),
        "filled_quantity": str(execution.filled_quantity),
        "fills": len(execution.fills),
        "execution_time_ms": str(execution.execution_time_ms),
        "slippage_bps": str(execution.slippage_bps),
        "market_impact_bps": str(execution.market_impact_bps),
    }
