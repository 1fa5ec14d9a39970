"""The roster on DynamoDB: every user's roles as one control-table item, in DynamoRoster.

One item keeps a role check to one consistent GetItem for all users (a process caches it for seconds), and
its `version` makes every change a compare-and-swap. DynamoDB's 400 KB item limit holds a few thousand
users' grants, far more than one trading desk has.
"""

from __future__ import annotations

from messages.records import ActivityEvent, Roster
from workers.store.dynamodb.activity import DynamoActivityJournal
from workers.store.dynamodb.items import key
from workers.store.dynamodb.requests import DynamoRequests
from workers.store.dynamodb.tables import ROSTER_KEY
from workers.store.dynamodb.versioned import put_versioned


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
        return await put_versioned(
            self._requests, self._journal, "put_roster", ROSTER_KEY, roster, expected_version, activity
        )
