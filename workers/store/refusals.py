"""Which refused writes tried to change what is closed, and the `change_refused` event that audits one.

A condition refuses every write that would change a terminal trade or an existing audit item. Most refusals
are harmless: a redelivered message writing what is already there. The ones below are not, and each is
appended to the trade's own chain as a `change_refused` event saying what was attempted, by which stage:

- a new trade under an existing trade id with a different order (user, symbol, side, quantity, type, prices);
- an outcome for a terminal trade that differs from the stored one (status, fill, price, error, order id);
- progress (working, unknown) for a terminal trade: it would reopen it;
- an audit event under an existing key whose fact differs (event type, user, details). The position
  snapshots of `position_updated` are left out: a redelivery takes them from the position it finds, which
  already holds the fill; its execution id says whether it is the same fill.

Progress audit items (`order_working`, `order_unknown`) mark the first time an order was seen in that state;
later progress in the same state is kept in the trade record (TradeStore.record_progress), not refused.
"""

from __future__ import annotations

import decimal
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from messages.records import AuditEvent, TradeRecord
from workers.store.port import AuditTrail

CHANGE_REFUSED = "change_refused"
CHANGE_REFUSED_PREFIX = "090#change_refused#"
_ORDER_FIELDS = ("user_id", "symbol", "trade_type", "quantity", "order_type", "price", "stop_price")
_OUTCOME_FIELDS = ("status", "filled_quantity", "execution_price", "error_code", "alpaca_order_id")
_SNAPSHOT_DETAILS = frozenset({"position_before", "position_after"})
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)  # floats are refused by the store: keep Decimals
# The stage that makes each kind of write (put_new_trade: validation for a rejection, else persistence).
_STAGES = {
    "put_new_trade": "persistence",
    "record_outcome": "execution",
    "record_progress": "execution",
    "decide_approval": "validation",
    "apply_position": "positions",
    "append_audit": "notifications",
}


def trade_change(operation: str, stored: TradeRecord, attempted: TradeRecord) -> dict[str, Any] | None:
    """What a refused trade write tried to change, or None when it was a harmless redelivery."""
    order = _differing(stored, attempted, _ORDER_FIELDS)
    if order:
        refused = "a different order under an existing trade id"
        fields = order
    elif operation == "put_new_trade" or not stored.is_terminal:
        return None  # the same order put again: a redelivery, whatever became of the trade since
    elif operation == "record_progress":
        refused, fields = "reopening a terminal trade", ["status"]
    else:
        fields = _differing(stored, attempted, _OUTCOME_FIELDS)
        if not fields:
            return None
        refused = "changing a terminal trade's outcome"
    return {
        "refused": refused,
        "fields": fields,
        "attempted": _fields(attempted, (*fields, "status")),
        "stored": _fields(stored, (*fields, "status")),
    }


def audit_change(stored: AuditEvent, attempted: AuditEvent) -> dict[str, Any] | None:
    """What a refused audit write tried to change, or None when it states the stored fact again."""
    if _fact(stored) == _fact(attempted):
        return None
    return {
        "refused": "changing an existing audit item",
        "attempted": {"event_type": attempted.event_type, "user_id": attempted.user_id, **_fact(attempted)},
        "stored": {"event_type": stored.event_type, "user_id": stored.user_id, **_fact(stored)},
    }


def refusal_event(
    operation: str,
    about: AuditEvent | TradeRecord,
    change: dict[str, Any],
    *,
    expires_at: int,
    at: datetime | None = None,
) -> AuditEvent:
    """The `change_refused` audit event for a refused change of `about`'s trade."""
    moment = at or datetime.now(UTC)
    audit_id = uuid.uuid4()
    stage = _STAGES[operation]
    if operation == "put_new_trade" and isinstance(about, TradeRecord) and about.status == "rejected":
        stage = "validation"
    details: dict[str, Any] = {"operation": operation, "stage": stage, **change}
    if isinstance(about, AuditEvent):
        details["event_key"] = about.event_key
    return AuditEvent(
        trade_id=about.trade_id,
        event_key=f"{CHANGE_REFUSED_PREFIX}{audit_id.hex}",
        event_type=CHANGE_REFUSED,
        audit_id=audit_id,
        timestamp=moment,
        user_id=about.user_id,
        details=details,
        expires_at=expires_at,
    )


async def audit_refused_trade_write(
    trail: AuditTrail, operation: str, stored: TradeRecord, attempted: TradeRecord
) -> None:
    """Audit a refused trade write on `trail`, unless it was a harmless redelivery."""
    change = trade_change(operation, stored, attempted)
    if change is not None:
        expires_at = attempted.expires_at or stored.expires_at
        if expires_at is None:
            raise ValueError(f"trade {attempted.trade_id} has no expires_at")
        await trail.append_audit(refusal_event(operation, attempted, change, expires_at=expires_at))


async def audit_refused_audit_write(trail: AuditTrail, operation: str, attempted: AuditEvent) -> None:
    """Audit a refused audit write on `trail`, unless it stated the stored fact again."""
    stored = await trail.get_audit(attempted.trade_id, attempted.event_key)
    if stored is None:
        raise RuntimeError(
            f"audit {attempted.event_key!r} of trade {attempted.trade_id} was refused, yet is absent"
        )
    change = audit_change(stored, attempted)
    if change is not None:
        event = refusal_event(operation, attempted, change, expires_at=attempted.expires_at)
        await trail.append_audit(event)


def _differing(stored: TradeRecord, attempted: TradeRecord, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if getattr(stored, name) != getattr(attempted, name)]


def _fields(record: TradeRecord, names: tuple[str, ...]) -> dict[str, Any]:
    builtins = msgspec.to_builtins(record)
    return {name: builtins.get(name) for name in dict.fromkeys(names)}


def _fact(event: AuditEvent) -> dict[str, Any]:
    details = {k: v for k, v in event.details.items() if k not in _SNAPSHOT_DETAILS}
    # Compare as stored: DynamoDB numbers come back as Decimals, and "1.50" as 1.5.
    return {"event_type": event.event_type, "user_id": event.user_id, "details": _plain(details)}


def _plain(value: Any) -> Any:
    return _DECODER.decode(_ENCODER.encode(value))
