"""The alerts an executed trade raises outside Slack: a large trade, for whoever chose large-trade alerts."""

from __future__ import annotations

from decimal import Decimal

from messages.alerts import SendAlert, alert_id_of
from messages.events import PositionUpdated


def large_trade_alert(updated: PositionUpdated, floor: Decimal) -> tuple[SendAlert, ...]:
    """An executed trade of at least `floor` dollars, for whoever chose large-trade alerts."""
    execution, trade = updated.execution, updated.trade
    notional = execution.filled_quantity * execution.execution_price
    if notional < floor:
        return ()
    where = f" in the {trade.account} account" if trade.account else ""
    did = "bought" if trade.side == "buy" else "sold"
    return (
        SendAlert(
            alert_id=alert_id_of("large_trade", str(trade.trade_id)),
            kind="large_trade",
            subject=f"tradeflow: {trade.user_id} {trade.side} {execution.filled_quantity} {trade.symbol} "
            f"(${notional:,.2f})",
            body=f"Large trade executed{where}: {trade.user_id} {did} {execution.filled_quantity} "
            f"{trade.symbol} at ${execution.execution_price:,.2f} (${notional:,.2f}, "
            f"{execution.execution_method}). Trade {trade.trade_id}.",
            at=execution.execution_timestamp,
            user_id=trade.user_id,
            account=trade.account,
            notional=notional,
            trade_id=trade.trade_id,
        ),
    )
