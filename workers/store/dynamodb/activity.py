"""The activity journal on DynamoDB, in the audit table: DynamoActivityJournal.

An entry's partition is `<stream>#<UTC day>` under the table's `trade_id` key and its sort key is
`<time>#<event id>` under `event_key`: a day of one stream reads with one Query, oldest first, and no
trade's trail (partitions are trade ids) ever meets a journal partition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from messages.records import ActivityEvent, ActivityStream
from workers.store.arguments import trade_window
from workers.store.dynamodb.items import activity_key, day_sort_bounds, from_attributes, to_attributes
from workers.store.dynamodb.requests import DynamoRequests, put_request

_PARTITION, _SORT = "trade_id", "event_key"  # the audit table's key attributes


class DynamoActivityJournal:
    """The ActivityJournal role; also the put of an entry, for the writes that journal who made them."""

    def __init__(self, requests: DynamoRequests) -> None:
        self._requests = requests

    async def append_activity(self, event: ActivityEvent) -> bool:
        return await self._requests.put_if("append_activity", self.entry_put(event))

    def entry_put(self, event: ActivityEvent) -> dict[str, Any]:
        """The conditional Put of a journal entry, to send alone or in another write's transaction."""
        partition, sort = activity_key(event.stream, event.at, event.event_id)
        item = to_attributes(event, **{_PARTITION: partition, _SORT: sort})
        return put_request(self._requests.tables.audit, item, f"attribute_not_exists({_PARTITION})")

    async def list_activity(
        self, stream: ActivityStream, since: datetime, until: datetime | None = None, limit: int = 10_000
    ) -> list[ActivityEvent]:
        days, lower, upper = day_sort_bounds(*trade_window(since, until, limit))
        items: list[dict[str, Any]] = []
        for day in days:
            request = {
                "TableName": self._requests.tables.audit,
                "KeyConditionExpression": "#p = :p AND #s BETWEEN :lower AND :upper",
                "ExpressionAttributeNames": {"#p": _PARTITION, "#s": _SORT},
                "ExpressionAttributeValues": {
                    ":p": {"S": f"{stream}#{day}"},
                    ":lower": {"S": lower},
                    ":upper": {"S": upper},
                },
                "ScanIndexForward": True,
                "ConsistentRead": True,
            }
            items.extend(await self._requests.query(request, limit=limit - len(items)))
            if len(items) >= limit:
                break
        return [activity_from_attributes(item) for item in items[:limit]]


def activity_from_attributes(attributes: dict[str, Any]) -> ActivityEvent:
    fields = {name: value for name, value in attributes.items() if name not in (_PARTITION, _SORT)}
    return from_attributes(fields, ActivityEvent)
