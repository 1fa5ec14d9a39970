"""DynamoTradeStore: the TradeStore port on DynamoDB, through one long-lived aioboto3 client."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

import aioboto3
import msgspec
from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError

from messages.records import AuditEvent, KillSwitch, Position, TradeRecord
from workers.store.faults import (
    CONDITION_FAILED,
    cancellation_reasons,
    error_code,
    transient_faults_as_unavailable,
)
from workers.store.items import from_attributes, key, to_attributes
from workers.store.port import PositionWrite, StoreUnavailable
from workers.store.schema import create_tables
from workers.store.tables import KILL_SWITCH_KEY, TableNames

_ABSENT = "attribute_not_exists(trade_id)"


class DynamoTradeStore:
    """Trades, positions, audit and the kill switch in four DynamoDB tables (see tables.py).

    Every write is conditional, so redelivered messages and racing workers cannot double-apply anything.
    """

    def __init__(self, client: Any, tables: TableNames, exit_stack: contextlib.AsyncExitStack) -> None:
        self._client = client
        self._tables = tables
        self._exit_stack = exit_stack

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
    ) -> DynamoTradeStore:
        """Open the client once; call `close()` when done. No request is sent here."""
        tables = TableNames.from_prefix(table_prefix)
        config = AioConfig(
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=max_connections,
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
        return cls(client, tables, exit_stack)

    @property
    def tables(self) -> TableNames:
        return self._tables

    async def close(self) -> None:
        await self._exit_stack.aclose()

    async def create_tables(self) -> None:
        await create_tables(self._client, self._tables)

    async def get_trade(self, trade_id: uuid.UUID) -> TradeRecord | None:
        return await self._get(self._tables.trades, key(trade_id=str(trade_id)), TradeRecord)

    async def put_new_trade(self, record: TradeRecord, audit: Sequence[AuditEvent]) -> TradeRecord | None:
        trade_put = self._put(self._tables.trades, to_attributes(record), _ABSENT)
        reasons = await self._transact("put_new_trade", [trade_put, *map(self._put_audit, audit)])
        if reasons is None:
            return None
        if reasons[0] == CONDITION_FAILED:
            stored = await self.get_trade(record.trade_id)
            if stored is None:
                raise RuntimeError(f"trade {record.trade_id} existed a moment ago and is gone")
            return stored
        raise RuntimeError(f"an audit event of trade {record.trade_id} exists but the trade does not")

    async def record_outcome(self, record: TradeRecord, audit: AuditEvent) -> TradeRecord | None:
        if not record.is_terminal:
            raise ValueError(f"record_outcome needs a terminal record, got status {record.status!r}")
        trade_put = self._put(
            self._tables.trades,
            to_attributes(record),
            "#s = :pending",
            names={"#s": "status"},
            values={":pending": {"S": "pending"}},
        )
        reasons = await self._transact("record_outcome", [trade_put, self._put_audit(audit)])
        if reasons is None:
            return None
        stored = await self.get_trade(record.trade_id)
        if stored is None:
            raise KeyError(record.trade_id)
        if stored.status != "pending":
            return stored
        if reasons[0] != CONDITION_FAILED:
            raise RuntimeError(
                f"trade {record.trade_id} is still pending but its audit {audit.event_key!r} exists"
            )
        # The trade did not exist when the condition was checked and was put since: worth another try.
        raise StoreUnavailable(f"trade {record.trade_id} appeared while its outcome was being recorded")

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
            position_put = self._put(self._tables.positions, item, "attribute_not_exists(user_id)")
        else:
            position_put = self._put(
                self._tables.positions,
                item,
                "#v = :expected",
                names={"#v": "version"},
                values={":expected": {"N": str(expected_version)}},
            )
        reasons = await self._transact("apply_position", [position_put, self._put_audit(audit)])
        if reasons is None:
            return PositionWrite.APPLIED
        if reasons[1] == CONDITION_FAILED:
            return PositionWrite.ALREADY_APPLIED
        # An engine may report only the first failed condition: ask the guard itself before a conflict.
        if await self.get_audit(audit.trade_id, audit.event_key) is not None:
            return PositionWrite.ALREADY_APPLIED
        return PositionWrite.VERSION_CONFLICT

    async def append_audit(self, event: AuditEvent) -> bool:
        with transient_faults_as_unavailable("append_audit"):
            try:
                await self._client.put_item(**self._put_audit(event)["Put"])
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    async def get_audit(self, trade_id: uuid.UUID, event_key: str) -> AuditEvent | None:
        return await self._get(
            self._tables.audit, key(trade_id=str(trade_id), event_key=event_key), AuditEvent
        )

    async def list_audit(self, trade_id: uuid.UUID) -> list[AuditEvent]:
        items = await self._query(self._tables.audit, "trade_id = :t", {":t": {"S": str(trade_id)}})
        return [from_attributes(item, AuditEvent) for item in items]

    async def get_kill_switch(self) -> KillSwitch:
        switch = await self._get(self._tables.control, key(key=KILL_SWITCH_KEY), KillSwitch)
        return switch or KillSwitch(engaged=False)

    async def set_kill_switch(self, switch: KillSwitch) -> None:
        with transient_faults_as_unavailable("set_kill_switch"):
            await self._client.put_item(
                TableName=self._tables.control, Item=to_attributes(switch, key=KILL_SWITCH_KEY)
            )

    async def claim_lease(self, name: str, *, now_ms: int, lease_ms: int) -> bool:
        until_ms = now_ms + lease_ms
        item = {
            "key": {"S": f"lease#{name}"},
            "lease_until_ms": {"N": str(until_ms)},
            "expires_at": {"N": str(until_ms // 1000 + 86_400)},
        }
        with transient_faults_as_unavailable("claim_lease"):
            try:
                await self._client.put_item(
                    TableName=self._tables.control,
                    Item=item,
                    ConditionExpression="attribute_not_exists(#k) OR lease_until_ms < :now",
                    ExpressionAttributeNames={"#k": "key"},
                    ExpressionAttributeValues={":now": {"N": str(now_ms)}},
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    async def _get(self, table: str, item_key: dict[str, Any], kind: type[Any]) -> Any:
        with transient_faults_as_unavailable(f"GetItem {table}"):
            response = await self._client.get_item(TableName=table, Key=item_key, ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else from_attributes(item, kind)

    async def _query(self, table: str, condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        with transient_faults_as_unavailable(f"Query {table}"):
            while True:
                page = await self._client.query(**request)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return items
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def _transact(self, operation: str, items: list[dict[str, Any]]) -> list[str] | None:
        """Write `items` atomically: None when written, else each item's cancellation reason code."""
        with transient_faults_as_unavailable(operation):
            try:
                await self._client.transact_write_items(TransactItems=items)
                return None
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = cancellation_reasons(exc)
                if len(reasons) != len(items) or not set(reasons) <= {"None", CONDITION_FAILED}:
                    raise  # transient reasons become StoreUnavailable; anything else is a bug of ours
                return reasons

    def _put(
        self,
        table: str,
        item: dict[str, Any],
        condition: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": table, "Item": item, "ConditionExpression": condition}
        if names:
            put["ExpressionAttributeNames"] = names
        if values:
            put["ExpressionAttributeValues"] = values
        return {"Put": put}

    def _put_audit(self, event: AuditEvent) -> dict[str, Any]:
        return self._put(self._tables.audit, to_attributes(event), _ABSENT)
