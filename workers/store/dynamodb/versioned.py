"""One control-table item replaced as a whole under an optimistic version check, with the journal entry that
says who changed it in the same transaction: the roster, the risk limits, the alert preferences."""

from __future__ import annotations

from typing import Any

import msgspec

from messages.records import ActivityEvent
from workers.store.dynamodb.activity import DynamoActivityJournal
from workers.store.dynamodb.faults import CONDITION_FAILED
from workers.store.dynamodb.items import to_attributes
from workers.store.dynamodb.requests import DynamoRequests, put_request


async def put_versioned(
    requests: DynamoRequests,
    journal: DynamoActivityJournal,
    operation: str,
    item_key: str,
    record: Any,
    expected_version: int,
    activity: ActivityEvent | None,
) -> bool:
    """Write `record` as version `expected_version + 1` if the stored one is `expected_version` (0: none
    stored yet). True when written; False, nothing written, when another writer got there first."""
    table = requests.tables.control
    item = to_attributes(msgspec.structs.replace(record, version=expected_version + 1), key=item_key)
    if expected_version == 0:
        record_put = put_request(table, item, "attribute_not_exists(#k)", names={"#k": "key"})
    else:
        record_put = put_request(
            table,
            item,
            "#v = :expected",
            names={"#v": "version"},
            values={":expected": {"N": str(expected_version)}},
        )
    if activity is None:
        return await requests.put_if(operation, record_put)
    reasons = await requests.transact(operation, [record_put, journal.entry_put(activity)])
    if reasons is None:
        return True
    if reasons[0] == CONDITION_FAILED:
        return False
    raise RuntimeError(f"journal entry {activity.event_id} exists already")
