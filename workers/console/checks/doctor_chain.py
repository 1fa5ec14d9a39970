"""The doctor's third check: one enhanced execution through the real chain, as the doctor's own trader.

A 1-share market buy is published to RabbitMQ exactly as `tradeflow submit` publishes one, and the running
workers validate, record, execute (Alpaca paper, or the labelled simulation), apply it to a position and
notify. The trade belongs to `TRADEFLOW_DOCTOR_USER`, whom the trading policy always admits, so its
position change never lands under a real trader.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import msgspec

from messages.events import SubmitTrade
from messages.records import TradeRecord
from telemetry.redaction import secrets_of
from telemetry.tracing import configure_tracing, shutdown_tracing
from workers.bootstrap import open_store
from workers.chain.publisher import Publisher
from workers.console.trades.submit import build_command, wait_for_outcome
from workers.handlers.audit import NOTIFIED_KEY
from workers.settings import Settings

PREFERRED_SYMBOL = "SPY"
# Beyond the stock broker's fill timeout, what five stages and a notification may take on a busy stack.
CHAIN_MARGIN_S = 30.0


def doctor_symbol(settings: Settings) -> str:
    """SPY (the seed's choice) unless an allow-list leaves it out: then the allow-list's first symbol."""
    if not settings.symbols or PREFERRED_SYMBOL in settings.symbols:
        return PREFERRED_SYMBOL
    return sorted(settings.symbols)[0]


def doctor_trade(settings: Settings) -> SubmitTrade:
    command = build_command(
        user_id=settings.tradeflow_doctor_user, side="buy", quantity="1", symbol=doctor_symbol(settings)
    )
    return msgspec.structs.replace(command, trade=msgspec.structs.replace(command.trade, source="doctor"))


async def check_chain_execution(settings: Settings, lines: list[str]) -> tuple[bool, dict[str, Any]]:
    """Submit the doctor's trade, wait for its outcome and its notification, and print the seed's results."""
    command = doctor_trade(settings)
    trade = command.trade
    detail: dict[str, Any] = {
        "trade_id": str(trade.trade_id),
        "user_id": trade.user_id,
        "symbol": trade.symbol,
    }
    try:
        await asyncio.to_thread(_publish, settings, command)
    except Exception as exc:
        lines.append(f"❌ Trade NOT submitted (RabbitMQ did not confirm it): {type(exc).__name__}: {exc}")
        return False, {**detail, "error": f"not submitted: {type(exc).__name__}: {exc}"}
    wait_s = settings.tradeflow_fill_timeout_s + CHAIN_MARGIN_S
    try:
        record, notified = await _outcome(settings, trade.trade_id, wait_s)
    except Exception as exc:
        lines.append(f"❌ The trade's outcome could not be read: {type(exc).__name__}: {exc}")
        return False, {**detail, "error": f"outcome unreadable: {type(exc).__name__}: {exc}"}
    return _report(record, notified, wait_s, lines), {**detail, **_facts(record, notified)}


def _facts(record: TradeRecord | None, notified: bool) -> dict[str, Any]:
    if record is None:
        return {"status": "never recorded", "notified": notified}
    return {
        "status": record.status,
        "method": record.execution_method,
        "execution_id": record.execution_id,
        "execution_price": record.execution_price,
        "execution_time_ms": record.execution_time_ms,
        "alpaca_order_id": record.alpaca_order_id,
        "slippage_bps": record.slippage_bps,
        "error_code": record.error_code,
        "notified": notified,
    }


def _publish(settings: Settings, command: SubmitTrade) -> None:
    # The doctor's trade gets its root span like any trade; the provider is shut down (flushed) before
    # the wait, so the polling reads below do not litter the tracing backend with root spans of their own.
    configure_tracing("tradeflow-doctor", secrets=secrets_of(settings))
    publisher = Publisher(settings)
    try:
        publisher.submit(command)
    finally:
        publisher.close()
        shutdown_tracing()


async def _outcome(settings: Settings, trade_id: uuid.UUID, wait_s: float) -> tuple[TradeRecord | None, bool]:
    store = await open_store(settings)
    try:
        record = await wait_for_outcome(store, trade_id, wait_s)
        return record, await store.get_audit(trade_id, NOTIFIED_KEY) is not None
    finally:
        await store.close()


def _report(record: TradeRecord | None, notified: bool, wait_s: float, lines: list[str]) -> bool:
    if record is None or not record.is_terminal:
        status = "never recorded" if record is None else record.status
        lines.append(
            f"❌ No outcome within {wait_s:.0f}s (the trade is {status}):"
            " are the workers running? See `tradeflow health` and `tradeflow dlq list`"
        )
        return False
    if record.status != "executed":
        lines.append(f"❌ Trade {record.status.upper()}: {record.error_code}: {record.error_message}")
        return False
    lines += [  # the seed's lines, in the seed's order and format; tradeflow's own facts after them
        "📊 Execution Results:",
        "   Success: True",
        f"   Execution ID: {record.execution_id}",
        f"   Execution Price: ${record.execution_price:,.2f}",
        f"   Execution Time: {_two_places(record.execution_time_ms)}ms",
        f"   Alpaca Order ID: {record.alpaca_order_id or '(simulation)'}",
        f"   Slippage: {_two_places(record.slippage_bps)} bps",
        f"   Method: {record.execution_method}",
        f"   Trade ID (trace id): {record.trade_id}",
    ]
    if not notified:
        lines.append(
            f"❌ Executed, but {record.user_id} was not notified within {wait_s:.0f}s:"
            " see `tradeflow dlq list notifications`"
        )
        return False
    lines.append(f"✅ Position updated and {record.user_id} notified")
    return True


def _two_places(value: object) -> str:
    """The seed prints 1250.50ms and 1.00 bps: two decimals, whatever the stored precision."""
    return "n/a" if value is None else f"{Decimal(str(value)):.2f}"
