"""Trade records on DynamoDB, DynamoTradeRecords: each trade's item, written with its chained audit items."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from messages.records import AuditEvent, Position, TradeRecord
from messages.types import SETTLEABLE_STATUSES
from workers.store.arguments import check_decided
from workers.store.audit_chain import CHAIN_HEAD_KEY, head_of
from workers.store.dynamodb.audit import DynamoAuditTrail
from workers.store.dynamodb.faults import CONDITION_FAILED
from workers.store.dynamodb.items import from_attributes, key, trade_attributes, trade_from_attributes
from workers.store.dynamodb.requests import DynamoRequests, put_request
from workers.store.port import StoreUnavailable, TradeReading
from workers.store.position_keys import from_stored, stored_symbol
from workers.store.refusals import audit_refused_trade_write

_ABSENT = "attribute_not_exists(trade_id)"
# "The stored trade is open and settleable" (never one awaiting approval: only its decision moves it),
# spelt out so that a trade written before the open-trades index counts too.
_OPEN_VALUES = {f":{status}": {"S": status} for status in sorted(SETTLEABLE_STATUSES)}
_IS_OPEN = f"#status IN ({', '.join(_OPEN_VALUES)})"
_AWAITING_VALUES = {":awaiting": {"S": "awaiting_approval"}}
_IS_AWAITING = "#status = :awaiting"


class DynamoTradeRecords:
    """The TradeRecords role; every write is conditional, so no redelivery or racing worker applies twice."""

    def __init__(self, requests: DynamoRequests, audit: DynamoAuditTrail) -> None:
        self._requests = requests
        self._audit = audit

    async def get_trade(self, trade_id: uuid.UUID) -> TradeRecord | None:
        return (await self.read_trade(trade_id)).trade

    async def read_trade(
        self,
        trade_id: uuid.UUID,
        *,
        audit_keys: Collection[str] = (),
        position: tuple[str, str, str | None] | None = None,
    ) -> TradeReading:
        # One BatchGetItem, with the chain head: a stage that reads its trade usually links audit events next.
        tables, trade = self._requests.tables, str(trade_id)
        events = sorted(set(audit_keys) - {CHAIN_HEAD_KEY})  # DynamoDB refuses a key asked twice
        wanted = {
            tables.trades: [key(trade_id=trade)],
            tables.audit: [key(trade_id=trade, event_key=k) for k in (CHAIN_HEAD_KEY, *events)],
        }
        if position is not None:
            user_id, symbol, account = position
            wanted[tables.positions] = [key(user_id=user_id, symbol=stored_symbol(symbol, account))]
        found = await self._requests.get_items(wanted)
        audit = {item["event_key"]["S"]: item for item in found[tables.audit]}
        self._audit.remember_head(trade, head_of(audit.pop(CHAIN_HEAD_KEY, None)))
        trades, positions = found[tables.trades], found.get(tables.positions)
        return TradeReading(
            trade=trade_from_attributes(trades[0]) if trades else None,
            audit={k: from_attributes(item, AuditEvent) for k, item in audit.items()},
            position=from_stored(from_attributes(positions[0], Position)) if positions else None,
        )

    async def put_new_trade(self, record: TradeRecord, audit: Sequence[AuditEvent]) -> TradeRecord | None:
        trade_put = put_request(self._requests.tables.trades, trade_attributes(record), _ABSENT)
        reasons = await self._audit.transact_chained("put_new_trade", [trade_put], audit, new_trade=True)
        if reasons is None:
            return None
        if reasons[0] == CONDITION_FAILED:
            stored = await self.get_trade(record.trade_id)
            if stored is None:
                raise RuntimeError(f"trade {record.trade_id} existed a moment ago and is gone")
            await audit_refused_trade_write(self._audit, "put_new_trade", stored, record)
            return stored
        raise RuntimeError(f"an audit event of trade {record.trade_id} exists but the trade does not")

    async def record_outcome(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        if not record.is_terminal:
            raise ValueError(f"record_outcome needs a terminal record, got status {record.status!r}")
        trade_put = self._open_trade_put(record)
        reasons = await self._audit.transact_chained("record_outcome", [trade_put], [audit])
        if reasons is None:
            return None
        stored = await self._stored_trade(record.trade_id)
        if stored.status not in SETTLEABLE_STATUSES:
            await audit_refused_trade_write(self._audit, "record_outcome", stored, record)
            return stored
        if reasons[0] != CONDITION_FAILED:
            raise RuntimeError(f"trade {record.trade_id} is open but its audit {audit.event_key!r} exists")
        raise _appeared(record, "outcome")

    async def record_progress(self, record: TradeRecord, audit: AuditEvent | None) -> TradeRecord | None:
        if not record.is_open:
            raise ValueError(f"record_progress needs an open record, got status {record.status!r}")
        trade_put = self._open_trade_put(record)
        if audit is not None:
            reasons = await self._audit.transact_chained("record_progress", [trade_put], [audit])
            if reasons is None:
                return None
            if reasons[0] == CONDITION_FAILED:
                return await self._terminal_or_retry(record)
            # Only the audit item was refused: it exists (a redelivery), so the record goes alone.
        if await self._requests.put_if("record_progress", trade_put):
            return None
        return await self._terminal_or_retry(record)

    async def decide_approval(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        check_decided(record)
        trade_put = put_request(
            self._requests.tables.trades,
            trade_attributes(record),
            _IS_AWAITING,
            names={"#status": "status"},
            values=_AWAITING_VALUES,
        )
        reasons = await self._audit.transact_chained("decide_approval", [trade_put], [audit])
        if reasons is None:
            return None
        stored = await self._stored_trade(record.trade_id)
        if stored.status != "awaiting_approval":
            await audit_refused_trade_write(self._audit, "decide_approval", stored, record)
            return stored
        if reasons[0] != CONDITION_FAILED:
            raise RuntimeError(
                f"trade {record.trade_id} awaits approval but its audit {audit.event_key!r} exists"
            )
        raise _appeared(record, "decision")

    async def _stored_trade(self, trade_id: uuid.UUID) -> TradeRecord:
        stored = await self.get_trade(trade_id)
        if stored is None:
            raise KeyError(trade_id)
        return stored

    async def _terminal_or_retry(self, record: TradeRecord) -> TradeRecord:
        stored = await self._stored_trade(record.trade_id)
        if stored.status not in SETTLEABLE_STATUSES:
            await audit_refused_trade_write(self._audit, "record_progress", stored, record)
            return stored
        raise _appeared(record, "progress")

    def _open_trade_put(self, record: TradeRecord) -> dict[str, Any]:
        return put_request(
            self._requests.tables.trades,
            trade_attributes(record),
            _IS_OPEN,
            names={"#status": "status"},
            values=_OPEN_VALUES,
        )


def _appeared(record: TradeRecord, what: str) -> StoreUnavailable:
    # The trade was absent when its "is open" condition was checked and was put since: worth another try.
    return StoreUnavailable(f"trade {record.trade_id} appeared while its {what} was being recorded")
