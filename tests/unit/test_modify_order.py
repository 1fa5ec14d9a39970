"""The execution stage's modify (Alpaca's replace order): the replacement is a trade of its own, recorded
first; replaced once, the original ends as Alpaca says and the replacement rests; refused, the replacement
fails MODIFY_REFUSED and the original is untouched."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from brokers.port import ReplaceAnswer
from messages.events import ModifyOrder, TradeFailed, TradeRecorded, TradeWorking
from messages.trade import ExecutionError, OrderPending, TradeRequest
from tests.unit.fakes import ScriptedBroker, make_deps, submit
from workers.chain.stage_handlers import execution_stage
from workers.handlers.audit import audit_event
from workers.handlers.deps import Deps
from workers.handlers.persistence import record_trade
from workers.handlers.validation import validate_trade

RESTING = OrderPending(state="working", execution_method="alpaca", alpaca_order_id="ord-7", reason="resting")
REPLACED = ExecutionError(
    code="ORDER_REPLACED",
    message="The order was modified: Alpaca's order ord-8 replaces it, none filled",
    execution_method="alpaca",
    alpaca_order_id="ord-7",
)


async def _working(deps: Deps, **fields: object) -> TradeRequest:
    order = {"order_type": "limit", "limit_price": Decimal(95), "time_in_force": "gtc", **fields}
    validated = await validate_trade(submit(**order), deps)
    recorded = await record_trade(validated, deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)
    await execution_stage(recorded, deps)
    return recorded.trade


def _modify(trade: TradeRequest, **terms: object) -> ModifyOrder:
    replacement = msgspec.structs.replace(
        trade, trade_id=uuid.uuid4(), submitted_at=datetime.now(UTC), source="modify", **terms
    )
    return ModifyOrder(
        trade=trade, replacement=replacement, requested_by="U123", requested_at=datetime.now(UTC)
    )


def _as_tuple(outputs: object) -> tuple[object, ...]:
    return outputs if isinstance(outputs, tuple) else () if outputs is None else (outputs,)


async def test_a_modify_replaces_the_order_once_and_the_replacement_rests_as_a_trade_of_its_own() -> None:
    broker = ScriptedBroker(RESTING, REPLACED, replaces=(ReplaceAnswer(order_id="ord-8"),))
    deps = make_deps(broker=broker)
    trade = await _working(deps)
    modify = _modify(trade, limit_price=Decimal("96.5"), quantity=Decimal(12))

    outputs = _as_tuple(await execution_stage(modify, deps))
    again = await execution_stage(modify, deps)  # a double submit, or a redelivery

    failed, working = outputs
    assert isinstance(failed, TradeFailed) and failed.error.code == "ORDER_REPLACED"
    assert isinstance(working, TradeWorking) and working.trade.trade_id == modify.replacement.trade_id
    assert again is None and broker.calls.count("replace:ord-7") == 1
    new = await deps.store.get_trade(modify.replacement.trade_id)
    assert new is not None and (new.status, new.alpaca_order_id) == ("working", "ord-8")
    assert (new.price, new.quantity) == (Decimal("96.5"), Decimal(12))
    old_trail = {e.event_type: e for e in await deps.store.list_audit(trade.trade_id)}
    assert old_trail["modified"].details["replacement_trade_id"] == str(modify.replacement.trade_id)
    new_trail = {e.event_type: e for e in await deps.store.list_audit(modify.replacement.trade_id)}
    assert new_trail["trade_submitted"].details["replaces"] == str(trade.trade_id)


async def test_a_filled_order_is_not_modified_and_the_replacement_fails_with_the_reason() -> None:
    filled = ScriptedBroker(RESTING)  # the order ended (here: canceled) before the modify came
    deps = make_deps(broker=filled)
    trade = await _working(deps)
    record = await deps.store.get_trade(trade.trade_id)
    assert record is not None
    await deps.store.record_outcome(
        msgspec.structs.replace(record, status="failed", error_code="ORDER_CANCELED", error_message="x"),
        audit_event("trade_failed", trade, at=datetime.now(UTC), retention_days=2557),
    )

    [refused] = _as_tuple(await execution_stage(_modify(trade, limit_price=Decimal(97)), deps))

    assert isinstance(refused, TradeFailed) and refused.error.code == "MODIFY_REFUSED"
    assert "already failed" in refused.error.message
    assert not [c for c in filled.calls if c.startswith("replace")]


async def test_a_market_order_or_a_quantity_over_the_limit_is_refused_before_alpaca_is_asked() -> None:
    broker = ScriptedBroker(RESTING)
    deps = make_deps(broker=broker)
    trade = await _working(deps)

    [too_big] = _as_tuple(await execution_stage(_modify(trade, quantity=Decimal(5000)), deps))
    assert isinstance(too_big, TradeFailed) and "above the limit of 1000 shares" in too_big.error.message

    market = ScriptedBroker(OrderPending(state="working", execution_method="alpaca", alpaca_order_id="m-1"))
    deps = make_deps(broker=market)
    validated = await validate_trade(submit(), deps)
    recorded = await record_trade(validated, deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)
    await execution_stage(recorded, deps)
    [refused] = _as_tuple(await execution_stage(_modify(recorded.trade, quantity=Decimal(3)), deps))
    assert isinstance(refused, TradeFailed) and "market order cannot be modified" in refused.error.message
    assert not [c for c in broker.calls + market.calls if c.startswith("replace")]


async def test_alpaca_refusing_the_replace_leaves_the_original_working() -> None:
    broker = ScriptedBroker(RESTING, replaces=(ReplaceAnswer(refusal='order is already in "filled" state'),))
    deps = make_deps(broker=broker)
    trade = await _working(deps)

    [refused] = _as_tuple(await execution_stage(_modify(trade, limit_price=Decimal(97)), deps))

    assert isinstance(refused, TradeFailed) and refused.error.code == "MODIFY_REFUSED"
    assert (await deps.store.get_trade(trade.trade_id)).status == "working"  # type: ignore[union-attr]
