"""Positions on DynamoDB, DynamoPositions: each one versioned, moved under its trade's chained audit guard."""

from __future__ import annotations

import msgspec

from messages.records import AuditEvent, Position
from workers.store.dynamodb.audit import DynamoAuditTrail
from workers.store.dynamodb.faults import CONDITION_FAILED
from workers.store.dynamodb.items import from_attributes, key, to_attributes
from workers.store.dynamodb.requests import DynamoRequests, put_request
from workers.store.port import PositionWrite
from workers.store.position_keys import from_stored, stored_symbol, to_stored
from workers.store.refusals import audit_refused_audit_write


class DynamoPositions:
    """The Positions role."""

    def __init__(self, requests: DynamoRequests, audit: DynamoAuditTrail) -> None:
        self._requests = requests
        self._audit = audit

    async def get_position(self, user_id: str, symbol: str, account: str | None = None) -> Position | None:
        table = self._requests.tables.positions
        found = await self._requests.get(
            table, key(user_id=user_id, symbol=stored_symbol(symbol, account)), Position
        )
        return None if found is None else from_stored(found)

    async def list_positions(self, user_id: str) -> list[Position]:
        table = self._requests.tables.positions
        items = await self._requests.query_partition(table, "user_id = :u", {":u": {"S": user_id}})
        return [from_stored(from_attributes(item, Position)) for item in items]

    async def list_all_positions(self) -> list[Position]:
        items = await self._requests.scan(self._requests.tables.positions)
        positions = [from_stored(from_attributes(item, Position)) for item in items]
        return sorted(positions, key=lambda p: (p.user_id, p.symbol, p.account or ""))

    async def apply_position(
        self, position: Position, expected_version: int, audit: AuditEvent
    ) -> PositionWrite:
        table = self._requests.tables.positions
        item = to_attributes(to_stored(msgspec.structs.replace(position, version=expected_version + 1)))
        if expected_version == 0:
            position_put = put_request(table, item, "attribute_not_exists(user_id)")
        else:
            position_put = put_request(
                table,
                item,
                "#v = :expected",
                names={"#v": "version"},
                values={":expected": {"N": str(expected_version)}},
            )
        reasons = await self._audit.transact_chained("apply_position", [position_put], [audit])
        if reasons is None:
            return PositionWrite.APPLIED
        # An engine may report only the first failed condition: ask the guard itself before a conflict.
        guard = reasons[1] == CONDITION_FAILED or await self._audit.get_audit(audit.trade_id, audit.event_key)
        if guard:
            await audit_refused_audit_write(self._audit, "apply_position", audit)
            return PositionWrite.ALREADY_APPLIED
        return PositionWrite.VERSION_CONFLICT
