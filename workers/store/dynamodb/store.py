"""DynamoTradeStore: the TradeStore port on DynamoDB, through one long-lived aioboto3 client."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Collection, Sequence
from typing import Any

import aioboto3
import msgspec
from aiobotocore.config import AioConfig

from messages.records import AuditEvent, Position, TradeRecord
from messages.types import OPEN_STATUSES
from telemetry.client_spans import trace_dynamodb
from workers.store.audit_chain import CHAIN_HEAD_KEY, head_of
from workers.store.dynamodb.activity import ActivityItems
from workers.store.dynamodb.audit import ChainedAudit
from workers.store.dynamodb.control import ControlItems
from workers.store.dynamodb.faults import CONDITION_FAILED
from workers.store.dynamodb.items import (
    from_attributes,
    key,
    to_attributes,
    trade_attributes,
    trade_from_attributes,
)
from workers.store.dynamodb.queries import TradeQueries
from workers.store.dynamodb.requests import (
    get_item,
    get_items,
    put_if,
    put_request,
    query,
)
from workers.store.dynamodb.roster import RosterItems
from workers.store.dynamodb.schema import create_tables
from workers.store.dynamodb.tables import (
    Encryption,
    TableNames,
    encryption_for,
)
from workers.store.head_hints import ChainHeadHints
from workers.store.port import (
    PositionWrite,
    StoreUnavailable,
    TradeReading,
)

_ABSENT = "attribute_not_exists(trade_id)"
# "The stored trade is open", spelt out so that a trade written before the open-trades index counts too.
_OPEN_VALUES = {f":{status}": {"S": status} for status in sorted(OPEN_STATUSES)}
_IS_OPEN = f"#status IN ({', '.join(_OPEN_VALUES)})"


class DynamoTradeStore(TradeQueries, ControlItems, RosterItems, ActivityItems, ChainedAudit):
    """Trades, positions, audit, the kill switch, roles and the journal in four DynamoDB tables (tables.py).

    Every write is conditional, so redelivered messages and racing workers cannot double-apply anything.
    """

    def __init__(
        self,
        client: Any,
        tables: TableNames,
        exit_stack: contextlib.AsyncExitStack,
        *,
        encryption: Encryption | None = None,
    ) -> None:
        self._client = client
        self._tables = tables
        self._exit_stack = exit_stack
        self._encryption = encryption  # what create_tables asks for at rest (tables.encryption_for)
        self._head_hints = ChainHeadHints()

    @classmethod
    async def open(
        cls,
        *,
        table_prefix: str,
        region: str,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 5.0,
        max_attempts: int = 4,
        max_connections: int = 50,
        kms_key_id: str | None = None,
    ) -> DynamoTradeStore:
        """Open the client once; call `close()` when done. No request is sent here.

        On AWS (no endpoint, or an amazonaws.com one) `create_tables` creates the tables encrypted with
        KMS: the key `kms_key_id` names, or the AWS managed key.
        """
        tables = TableNames.from_prefix(table_prefix)
        config = AioConfig(
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=max_connections,
            # DynamoDB validates every request itself and answers ValidationException; botocore's own pass
            # over each request's parameters first cost about 6 % of a worker's CPU (py-spy, bench/README).
            parameter_validation=False,
        )
        exit_stack = contextlib.AsyncExitStack()
        client = await exit_stack.enter_async_context(
            aioboto3.Session().client(
                "dynamodb",
                region_name=region,
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
            )
        )
        trace_dynamodb(client)
        return cls(client, tables, exit_stack, encryption=encryption_for(endpoint_url, kms_key_id))

    @property
    def tables(self) -> TableNames:
        return self._tables

    async def close(self) -> None:
        await self._exit_stack.aclose()

    async def create_tables(self) -> None:
        await create_tables(self._client, self._tables, self._encryption)

    async def get_trade(self, trade_id: uuid.UUID) -> TradeRecord | None:
        return (await self.read_trade(trade_id)).trade

    async def read_trade(
        self,
        trade_id: uuid.UUID,
        *,
        audit_keys: Collection[str] = (),
        position: tuple[str, str] | None = None,
    ) -> TradeReading:
        # One BatchGetItem, with the chain head: a stage that reads its trade usually links audit events next.
        tables, trade = self._tables, str(trade_id)
        events = sorted(set(audit_keys) - {CHAIN_HEAD_KEY})  # DynamoDB refuses a key asked twice
        wanted = {
            tables.trades: [key(trade_id=trade)],
            tables.audit: [key(trade_id=trade, event_key=k) for k in (CHAIN_HEAD_KEY, *events)],
        }
        if position is not None:
            wanted[tables.positions] = [key(user_id=position[0], symbol=position[1])]
        found = await get_items(self._client, wanted)
        audit = {item["event_key"]["S"]: item for item in found[tables.audit]}
        self._head_hints.remember(trade, head_of(audit.pop(CHAIN_HEAD_KEY, None)))
        trades, positions = found[tables.trades], found.get(tables.positions)
        return TradeReading(
            trade=trade_from_attributes(trades[0]) if trades else None,
            audit={k: from_attributes(item, AuditEvent) for k, item in audit.items()},
            position=from_attributes(positions[0], Position) if positions else None,
        )

    async def put_new_trade(self, record: TradeRecord, audit: Sequence[AuditEvent]) -> TradeRecord | None:
        trade_put = put_request(self._tables.trades, trade_attributes(record), _ABSENT)
        reasons = await self._transact_chained("put_new_trade", [trade_put], audit, new_trade=True)
        if reasons is None:
            return None
        if reasons[0] == CONDITION_FAILED:
            stored = await self.get_trade(record.trade_id)
            if stored is None:
                raise RuntimeError(f"trade {record.trade_id} existed a moment ago and is gone")
            await self._refuse_trade_change("put_new_trade", stored, record)
            return stored
        raise RuntimeError(f"an audit event of trade {record.trade_id} exists but the trade does not")

    async def record_outcome(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        if not record.is_terminal:
            raise ValueError(f"record_outcome needs a terminal record, got status {record.status!r}")
        reasons = await self._transact_chained("record_outcome", [self._open_trade_put(record)], [audit])
        if reasons is None:
            return None
        stored = await self._stored_trade(record.trade_id)
        if stored.is_terminal:
            await self._refuse_trade_change("record_outcome", stored, record)
            return stored
        if reasons[0] != CONDITION_FAILED:
            raise RuntimeError(f"trade {record.trade_id} is open but its audit {audit.event_key!r} exists")
        raise _appeared(record, "outcome")

    async def record_progress(self, record: TradeRecord, audit: AuditEvent | None) -> TradeRecord | None:
        if not record.is_open:
            raise ValueError(f"record_progress needs an open record, got status {record.status!r}")
        trade_put = self._open_trade_put(record)
        if audit is not None:
            reasons = await self._transact_chained("record_progress", [trade_put], [audit])
            if reasons is None:
                return None
            if reasons[0] == CONDITION_FAILED:
                return await self._terminal_or_retry(record)
            # Only the audit item was refused: it exists (a redelivery), so the record goes alone.
        if await put_if(self._client, "record_progress", trade_put):
            return None
        return await self._terminal_or_retry(record)

    async def get_position(self, user_id: str, symbol: str) -> Position | None:
        return await self._get(self._tables.positions, key(user_id=user_id, symbol=symbol), Position)

    async def list_positions(self, user_id: str) -> list[Position]:
        items = await self._query(self._tables.positions, "user_id = :u", {":u": {"S": user_id}})
        return [from_attributes(item, Position) for item in items]

    async def apply_position(
        self, position: Position, expected_version: int, audit: AuditEvent
    ) -> PositionWrite:
        item = to_attributes(msgspec.structs.replace(position, version=expected_version + 1))
        if expected_version == 0:
            position_put = put_request(self._tables.positions, item, "attribute_not_exists(user_id)")
        else:
            position_put = put_request(
                self._tables.positions,
                item,
                "#v = :expected",
                names={"#v": "version"},
                values={":expected": {"N": str(expected_version)}},
            )
        reasons = await self._transact_chained("apply_position", [position_put], [audit])
        if reasons is None:
            return PositionWrite.APPLIED
        # An engine may report only the first failed condition: ask the guard itself before a conflict.
        guard = reasons[1] == CONDITION_FAILED or await self.get_audit(audit.trade_id, audit.event_key)
        if guard:
            await self._refuse_audit_change("apply_position", audit)
            return PositionWrite.ALREADY_APPLIED
        return PositionWrite.VERSION_CONFLICT

    async def get_audit(self, trade_id: uuid.UUID, event_key: str) -> AuditEvent | None:
        return await self._get(
            self._tables.audit, key(trade_id=str(trade_id), event_key=event_key), AuditEvent
        )

    async def list_audit(self, trade_id: uuid.UUID) -> list[AuditEvent]:
        items = await self._query(self._tables.audit, "trade_id = :t", {":t": {"S": str(trade_id)}})
        links = [item for item in items if item["event_key"]["S"] != CHAIN_HEAD_KEY]  # the head is no event
        return [from_attributes(item, AuditEvent) for item in links]

    async def _get(self, table: str, item_key: dict[str, Any], kind: type[Any]) -> Any:
        item = await get_item(self._client, table, item_key)
        return None if item is None else from_attributes(item, kind)

    async def _query(self, table: str, condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        request = {
            "TableName": table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        return await query(self._client, request)

    async def _stored_trade(self, trade_id: uuid.UUID) -> TradeRecord:
        stored = await self.get_trade(trade_id)
        if stored is None:
            raise KeyError(trade_id)
        return stored

    async def _terminal_or_retry(self, record: TradeRecord) -> TradeRecord:
        stored = await self._stored_trade(record.trade_id)
        if stored.is_terminal:
            await self._refuse_trade_change("record_progress", stored, record)
            return stored
        raise _appeared(record, "progress")

    def _open_trade_put(self, record: TradeRecord) -> dict[str, Any]:
        return put_request(
            self._tables.trades,
            trade_attributes(record),
            _IS_OPEN,
            names={"#status": "status"},
            values=_OPEN_VALUES,
        )


def _appeared(record: TradeRecord, what: str) -> StoreUnavailable:
    # The trade was absent when its "is open" condition was checked and was put since: worth another try.
    return StoreUnavailable(f"trade {record.trade_id} appeared while its {what} was being recorded")
