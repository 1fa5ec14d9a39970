"""The processes' heartbeats on DynamoDB: one control-table item, one attribute per process: DynamoHeartbeats.

The item's own attributes are the map from process id to heartbeat (`beat#<process id>`): UpdateItem cannot
SET a key inside a map attribute that does not exist yet, while it SETs a top-level attribute of an item
that does not exist by creating it. So each process writes its own entry with one UpdateItem, never reading,
merging or racing another's. Each beat rewrites the item and is billed by its size, about 300 bytes a
process: the item stays small because a beat drops the entries a day older than itself, and TTL removes it
two days after the last beat of all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from messages.records import Heartbeat
from workers.store.dynamodb.faults import error_code, transient_faults_as_unavailable
from workers.store.dynamodb.items import from_attributes, key, to_attributes
from workers.store.dynamodb.requests import DynamoRequests
from workers.store.dynamodb.tables import HEARTBEATS_KEY, TTL_ATTRIBUTE
from workers.store.heartbeats_port import HEARTBEATS_KEPT_FOR

ENTRY_PREFIX = "beat#"
_ITEM_KEPT_FOR = timedelta(days=2)  # after the last beat of all (TTL)
_REMOVALS_PER_REQUEST = 20  # keeps each UpdateExpression far below DynamoDB's 4 KB


class DynamoHeartbeats:
    """The Heartbeats role."""

    def __init__(self, requests: DynamoRequests) -> None:
        self._requests = requests

    async def beat(self, heartbeat: Heartbeat) -> None:
        expires_at = int((heartbeat.beat_at + _ITEM_KEPT_FOR).timestamp())
        with transient_faults_as_unavailable("beat"):
            answer = await self._requests.client.update_item(
                TableName=self._requests.tables.control,
                Key=key(key=HEARTBEATS_KEY),
                UpdateExpression="SET #beat = :beat, #ttl = :ttl",
                ExpressionAttributeNames={
                    "#beat": ENTRY_PREFIX + heartbeat.process_id,
                    "#ttl": TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues={
                    ":beat": {"M": to_attributes(heartbeat)},
                    ":ttl": {"N": str(expires_at)},
                },
                ReturnValues="ALL_NEW",  # every entry, to find those to drop
            )
        oldest_kept = heartbeat.beat_at - HEARTBEATS_KEPT_FOR
        stale = [
            (name, value)
            for name, value in answer.get("Attributes", {}).items()
            if name.startswith(ENTRY_PREFIX) and _heartbeat(value).beat_at < oldest_kept
        ]
        for start in range(0, len(stale), _REMOVALS_PER_REQUEST):
            await self._drop(stale[start : start + _REMOVALS_PER_REQUEST])

    async def list_heartbeats(self) -> list[Heartbeat]:
        item = await self._requests.get_item(self._requests.tables.control, key(key=HEARTBEATS_KEY)) or {}
        return [_heartbeat(item[name]) for name in sorted(item) if name.startswith(ENTRY_PREFIX)]

    async def forget_heartbeat(self, process_id: str) -> None:
        with transient_faults_as_unavailable("forget_heartbeat"):
            try:
                await self._requests.client.update_item(
                    TableName=self._requests.tables.control,
                    Key=key(key=HEARTBEATS_KEY),
                    UpdateExpression="REMOVE #beat",
                    # without it, a REMOVE on a missing item would create an empty one
                    ConditionExpression="attribute_exists(#beat)",
                    ExpressionAttributeNames={"#beat": ENTRY_PREFIX + process_id},
                )
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise

    async def _drop(self, stale: list[tuple[str, Any]]) -> None:
        # Each entry goes only if it still holds the beat found stale: a process that beat again meanwhile
        # keeps its entry (the whole removal is skipped then, and the next beat tries again).
        names: dict[str, str] = {"#at": "beat_at"}
        values: dict[str, Any] = {}
        for n, (name, value) in enumerate(stale):
            names[f"#e{n}"] = name
            values[f":at{n}"] = value["M"]["beat_at"]
        with transient_faults_as_unavailable("beat"):
            try:
                await self._requests.client.update_item(
                    TableName=self._requests.tables.control,
                    Key=key(key=HEARTBEATS_KEY),
                    UpdateExpression="REMOVE " + ", ".join(f"#e{n}" for n in range(len(stale))),
                    ConditionExpression=" AND ".join(f"#e{n}.#at = :at{n}" for n in range(len(stale))),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise


def _heartbeat(value: dict[str, Any]) -> Heartbeat:
    return from_attributes(value["M"], Heartbeat)
