"""`tradeflow doctor`: the seed's `test_enhanced_execution.py`, made an operator command.

It checks the Alpaca service (and its paper guard), database logging and retrieval (on a `-doctor` table
prefix, so no real trade is touched), and one enhanced execution through the configured stock broker — a
1-share paper order on Alpaca when Alpaca is on, else the simulation. Exit 0 when every check passes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from brokers.fallback import FallbackBroker
from messages.records import pending_record
from messages.trade import Execution, TradeRequest
from workers.bootstrap import open_broker, open_store
from workers.handlers.audit import expires_at, submitted_event
from workers.settings import Settings

DOCTOR_SYMBOL = "SPY"


async def run_doctor(settings: Settings) -> tuple[bool, list[str]]:
    lines = ["🎯 Starting Enhanced Trade Execution Tests", "=" * 60]
    results = {
        "Alpaca Service": await _alpaca(settings, lines),
        "Database Logging": await _database(settings, lines),
        "Enhanced Execution": await _execution(settings, lines),
    }
    passed = sum(results.values())
    lines += ["", "📋 Test Summary:", "=" * 60]
    lines += [f"   {name}: {'✅ PASS' if ok else '❌ FAIL'}" for name, ok in results.items()]
    lines += ["", f"📊 Overall Results: {passed}/{len(results)} tests passed"]
    ok = passed == len(results)
    lines.append(
        "🎉 All tests passed! Enhanced trade execution is ready." if ok else "⚠️  Some checks failed."
    )
    return ok, lines


async def _alpaca(settings: Settings, lines: list[str]) -> bool:
    lines += ["", "🧪 Testing Alpaca Service..."]
    if not settings.alpaca_paper_enabled:
        lines.append("⚠️  Alpaca Paper Trading is OFF (ALPACA_PAPER_ENABLED=false): trades are simulated")
        return True
    broker = await open_broker(msgspec.structs.replace(settings, tradeflow_alpaca_stream=False))
    try:
        if not isinstance(broker, FallbackBroker) or broker.primary is None or broker.disabled_reason:
            lines.append(f"❌ Alpaca Paper Trading is DISABLED: {getattr(broker, 'disabled_reason', '')}")
            return False
        try:
            await broker.primary.verify()
            account = await broker.primary.account()
        except Exception as exc:
            lines.append(f"❌ Alpaca Paper Trading is UNAVAILABLE: {exc}")
            return False
        lines += [
            "✅ Alpaca Paper Trading is AVAILABLE",
            "📊 Account Info:",
            f"   Account Number: {account.account_number}",
            f"   Cash: ${Decimal(str(account.cash)):,.2f}",
            f"   Buying Power: ${Decimal(str(account.buying_power)):,.2f}",
            f"   Portfolio Value: ${Decimal(str(account.portfolio_value)):,.2f}",
        ]
        return True
    finally:
        await broker.close()


async def _database(settings: Settings, lines: list[str]) -> bool:
    lines += ["", "🗄️ Testing Database Logging..."]
    doctor = msgspec.structs.replace(
        settings, dynamodb_table_prefix=f"{settings.dynamodb_table_prefix}-doctor"
    )
    now = datetime.now(UTC)
    trade = _doctor_trade(now)
    try:
        store = await open_store(doctor)
        try:
            record = pending_record(
                trade, recorded_at=now, expires_at=expires_at(now, settings.tradeflow_audit_retention_days)
            )
            audit = submitted_event(
                trade, retention_days=settings.tradeflow_audit_retention_days, source="doctor"
            )
            await store.put_new_trade(record, [audit])
            lines.append("✅ Trade logged to database successfully")
            stored = await store.get_trade(trade.trade_id)
            trail = await store.list_audit(trade.trade_id)
        finally:
            await store.close()
    except Exception as exc:
        lines.append(f"❌ Database logging failed: {type(exc).__name__}: {exc}")
        return False
    if stored != record or [a.event_type for a in trail] != ["trade_submitted"]:
        lines.append("❌ Trade read back differs from what was written")
        return False
    lines.append(f"✅ Trade retrieved from database successfully (tables {doctor.dynamodb_table_prefix}-*)")
    return True


async def _execution(settings: Settings, lines: list[str]) -> bool:
    lines += ["", "🚀 Simulating Enhanced Trade Execution..."]
    broker = await open_broker(msgspec.structs.replace(settings, tradeflow_alpaca_stream=False))
    try:
        result = await broker.execute(_doctor_trade(datetime.now(UTC)))
    except Exception as exc:
        lines.append(f"❌ Execution raised {type(exc).__name__}: {exc}")
        return False
    finally:
        await broker.close()
    if not isinstance(result, Execution):
        lines.append(f"❌ Execution did not fill: {result}")
        return False
    lines += [
        "📊 Execution Results:",
        "   Success: True",
        f"   Method: {result.execution_method}",
        f"   Execution ID: {result.execution_id}",
        f"   Execution Price: ${result.execution_price:,.2f}",
        f"   Execution Time: {result.execution_time_ms}ms",
        f"   Alpaca Order ID: {result.alpaca_order_id or '(simulation)'}",
        f"   Slippage: {result.slippage_bps} bps",
    ]
    return True


def _doctor_trade(now: datetime) -> TradeRequest:
    return TradeRequest(
        trade_id=uuid.uuid4(),
        user_id="doctor",
        symbol=DOCTOR_SYMBOL,
        side="buy",
        quantity=Decimal(1),
        submitted_at=now,
        source="doctor",
    )
