"""The roster on DynamoDB: every user's roles as one control-table item (a mixin of DynamoTradeStore).

One item keeps a role check to one consistent GetItem for all users (a process caches it for seconds), and
its `version` makes every change a compare-and-swap. DynamoDB's 400 KB item limit holds a few thousand
users' grants, far more than one trading desk has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from messages.records import ActivityEvent, Roster
from workers.store.dynamodb.faults import CONDITION_FAILED
from workers.store.dynamodb.items import key, to_attributes
from workers.store.dynamodb.requests import put_if, put_request, transact
from workers.store.dynamodb.tables import ROSTER_KEY, TableNames


class RosterItems:
    _client: Any
    _tables: TableNames
    _activity_put: Callable[[ActivityEvent], dict[str, Any]]  # ActivityItems' put of a journal entry

    async def _get(self, table: str, item_key: dict[str, Any], kind: type[Any]) -> Any:
        raise NotImplementedError  # DynamoTradeStore's consistent GetItem

    async def get_roster(self) -> Roster:
        roster = await self._get(self._tables.control, key(key=ROSTER_KEY), Roster)
        return roster or Roster()

    async def put_roster(
        self, roster: Roster, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        item = to_attributes(msgspec.structs.replace(roster, version=expected_version + 1), key=ROSTER_KEY)
        if expected_version == 0:
            absent = "attribute_not_exists(#k)"
            roster_put = put_request(self._tables.control, item, absent, names={"#k": "key"})
        else:
            roster_put = put_request(
                self._tables.control,
                item,
                "#v = :expected",
                names={"#v": "version"},
                values={":expected": {"N": str(expected_version)}},
            )
        if activity is None:
            return await put_if(self._client, "put_roster", roster_put)
        reasons = await transact(self._client, "put_roster", [roster_put, self._activity_put(activity)])
        if reasons is None:
            return True
        if reasons[0] == CONDITION_FAILED:
            return False
        raise RuntimeError(f"journal entry {activity.event_id} exists already")
