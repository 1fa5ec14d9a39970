"""The roster on DynamoDB: every user's roles as one control-table item, in DynamoRoster.

One item keeps a role check to one consistent GetItem for all users (a process caches it for seconds), and
its `version` makes every change a compare-and-swap. DynamoDB's 400 KB item limit holds a few thousand
users' grants, far more than one trading desk has.
"""

from __future__ import annotations

import msgspec

from messages.records import ActivityEvent, Roster
from workers.store.dynamodb.activity import DynamoActivityJournal
from workers.store.dynamodb.faults import CONDITION_FAILED
from workers.store.dynamodb.items import key, to_attributes
from workers.store.dynamodb.requests import DynamoRequests, put_request
from workers.store.dynamodb.tables import ROSTER_KEY


class DynamoRoster:
    """The RosterStore role; a roster written with its journal entry writes both in one transaction."""

    def __init__(self, requests: DynamoRequests, journal: DynamoActivityJournal) -> None:
        self._requests = requests
        self._journal = journal

    async def get_roster(self) -> Roster:
        roster = await self._requests.get(self._requests.tables.control, key(key=ROSTER_KEY), Roster)
        return roster or Roster()

    async def put_roster(
        self, roster: Roster, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        table = self._requests.tables.control
        item = to_attributes(msgspec.structs.replace(roster, version=expected_version + 1), key=ROSTER_KEY)
        if expected_version == 0:
            roster_put = put_request(table, item, "attribute_not_exists(#k)", names={"#k": "key"})
        else:
            roster_put = put_request(
                table,
                item,
                "#v = :expected",
                names={"#v": "version"},
                values={":expected": {"N": str(expected_version)}},
            )
        if activity is None:
            return await self._requests.put_if("put_roster", roster_put)
        reasons = await self._requests.transact("put_roster", [roster_put, self._journal.entry_put(activity)])
        if reasons is None:
            return True
        if reasons[0] == CONDITION_FAILED:
            return False
        raise RuntimeError(f"journal entry {activity.event_id} exists already")
