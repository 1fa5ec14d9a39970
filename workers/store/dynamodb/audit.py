"""The audit trail on DynamoDB, DynamoAuditTrail: every write that carries audit items links them onto the
trade's hash chain in that same transaction; refused changes are audited; the raw chain is read for checks.

Cost: a write with audit items sends one TransactWriteItems, as before, with one more item (the chain head);
it first reads the head with one consistent GetItem, except a new trade's, which assumes it has none, and a
write that follows its trade's read, which links after the head read with the trade (head_hints.py).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from typing import Any

from messages.records import AuditEvent
from workers.store.audit_chain import (
    CHAIN_HEAD_KEY,
    GENESIS,
    AuditChain,
    ChainHead,
    head_condition,
    head_item,
    head_of,
    link,
)
from workers.store.dynamodb.faults import CONDITION_FAILED, TRANSACTION_CONFLICT
from workers.store.dynamodb.items import from_attributes, key, to_attributes
from workers.store.dynamodb.requests import DynamoRequests, put_request
from workers.store.head_hints import ChainHeadHints, Unknown
from workers.store.port import StoreUnavailable
from workers.store.refusals import audit_refused_audit_write

# Writers of one trade's events at once are few (a stage, a notifier, a redelivery): a loser relinks at once.
MAX_CHAIN_ATTEMPTS = 16
_ABSENT = "attribute_not_exists(trade_id)"


class DynamoAuditTrail:
    """The AuditTrail role, and the chained transaction every other write with audit items goes through."""

    def __init__(self, requests: DynamoRequests) -> None:
        self._requests = requests
        self._head_hints = ChainHeadHints()

    async def append_audit(self, event: AuditEvent) -> bool:
        reasons = await self.transact_chained("append_audit", [], [event])
        if reasons is None:
            return True
        await audit_refused_audit_write(self, "append_audit", event)
        return False

    async def read_audit_chain(self, trade_id: uuid.UUID) -> AuditChain:
        request = {
            "TableName": self._requests.tables.audit,
            "KeyConditionExpression": "trade_id = :t",
            "ExpressionAttributeValues": {":t": {"S": str(trade_id)}},
            "ConsistentRead": True,
        }
        items = await self._requests.query(request)
        heads = [item for item in items if item["event_key"]["S"] == CHAIN_HEAD_KEY]
        links = [item for item in items if item["event_key"]["S"] != CHAIN_HEAD_KEY]
        return AuditChain(items=links, head=heads[0] if heads else None)

    async def get_audit(self, trade_id: uuid.UUID, event_key: str) -> AuditEvent | None:
        item_key = key(trade_id=str(trade_id), event_key=event_key)
        return await self._requests.get(self._requests.tables.audit, item_key, AuditEvent)

    async def list_audit(self, trade_id: uuid.UUID) -> list[AuditEvent]:
        items = await self._requests.query_partition(
            self._requests.tables.audit, "trade_id = :t", {":t": {"S": str(trade_id)}}
        )
        links = [item for item in items if item["event_key"]["S"] != CHAIN_HEAD_KEY]  # the head is no event
        return [from_attributes(item, AuditEvent) for item in links]

    def remember_head(self, trade_id: str, head: ChainHead | None) -> None:
        """Keep the chain head read with its trade for the chained write that usually follows."""
        self._head_hints.remember(trade_id, head)

    async def transact_chained(
        self,
        operation: str,
        others: list[dict[str, Any]],
        events: Sequence[AuditEvent],
        *,
        new_trade: bool = False,
    ) -> list[str] | None:
        """Write `others` and `events`, linked onto their trade's chain, and the chain's head, atomically.

        None when written; else the cancellation reasons of `others` then `events`, at least one of them
        ConditionalCheckFailed (an existing event key is refused: a redelivery adds no link). A head that
        moved since it was read, or a conflicting transaction, is read again and linked after.
        """
        if not events:
            return await self._requests.transact(operation, others)
        trade_id = str(events[0].trade_id)
        if any(str(event.trade_id) != trade_id for event in events):
            raise ValueError(f"{operation}: audit events of several trades in one write")
        table = self._requests.tables.audit
        attributes = [to_attributes(event) for event in events]
        expires_at = max(event.expires_at for event in events)
        head = None if new_trade else await self._expected_head(trade_id)
        for attempt in range(MAX_CHAIN_ATTEMPTS):
            linked, after = link(attributes, head or GENESIS)
            condition, names, values = head_condition(head)
            head_put = put_request(
                table, head_item(trade_id, after, expires_at), condition, names=names, values=values
            )
            audit_puts = [put_request(table, item, _ABSENT) for item in linked]
            items = [*others, *audit_puts, head_put]
            reasons = await self._requests.transact(operation, items, conflicts_as_reasons=True)
            if reasons is None:
                return None
            if TRANSACTION_CONFLICT in reasons:
                await asyncio.sleep(random.uniform(0.002, 0.02) * (attempt + 1))
            elif CONDITION_FAILED in reasons[:-1]:
                return reasons[:-1]
            head = await self._chain_head(trade_id)
        raise StoreUnavailable(
            f"audit chain of trade {trade_id} kept moving under {MAX_CHAIN_ATTEMPTS} tries"
        )

    async def _expected_head(self, trade_id: str) -> ChainHead | None:
        """The head read with the trade a moment ago (head_hints.py), else the stored one."""
        hint = self._head_hints.take(trade_id)
        return await self._chain_head(trade_id) if isinstance(hint, Unknown) else hint

    async def _chain_head(self, trade_id: str) -> ChainHead | None:
        item_key = key(trade_id=trade_id, event_key=CHAIN_HEAD_KEY)
        return head_of(await self._requests.get_item(self._requests.tables.audit, item_key))
