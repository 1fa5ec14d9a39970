"""The desk's risk limits, alert preferences and once-markers on DynamoDB, as control-table items.

The limits and the preferences are one item each, like the roster (roster.py): one consistent GetItem reads
every scope, and `version` makes every change a compare-and-swap written with its journal entry. A marker is
an item of its own, `done#<name>`, put once under `attribute_not_exists` and removed by TTL on `expires_at`.
"""

from __future__ import annotations

from typing import Any

from messages.alerts import AlertPreferences
from messages.limits import DeskLimits, RiskLimits
from messages.records import ActivityEvent
from workers.store.dynamodb.activity import DynamoActivityJournal
from workers.store.dynamodb.items import from_attributes, key
from workers.store.dynamodb.requests import DynamoRequests, put_request
from workers.store.dynamodb.tables import (
    ALERT_PREFERENCES_KEY,
    LIMITS_KEY,
    MARKER_PREFIX,
    TTL_ATTRIBUTE,
)
from workers.store.dynamodb.versioned import put_versioned


class DynamoDeskControls:
    """The DeskControls role; an item written with its journal entry writes both in one transaction."""

    def __init__(self, requests: DynamoRequests, journal: DynamoActivityJournal) -> None:
        self._requests = requests
        self._journal = journal

    async def get_limits(self) -> DeskLimits:
        item = await self._requests.get_item(self._requests.tables.control, key(key=LIMITS_KEY))
        return DeskLimits() if item is None else limits_from_attributes(item)

    async def put_limits(
        self, limits: DeskLimits, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        return await put_versioned(
            self._requests, self._journal, "put_limits", LIMITS_KEY, limits, expected_version, activity
        )

    async def get_alert_preferences(self) -> AlertPreferences:
        table = self._requests.tables.control
        preferences = await self._requests.get(table, key(key=ALERT_PREFERENCES_KEY), AlertPreferences)
        return preferences or AlertPreferences()

    async def put_alert_preferences(
        self, preferences: AlertPreferences, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        return await put_versioned(
            self._requests,
            self._journal,
            "put_alert_preferences",
            ALERT_PREFERENCES_KEY,
            preferences,
            expected_version,
            activity,
        )

    async def mark_done(self, name: str, *, expires_at: int) -> bool:
        item = {"key": {"S": marker_key(name)}, TTL_ATTRIBUTE: {"N": str(expires_at)}}
        marker_put = put_request(
            self._requests.tables.control, item, "attribute_not_exists(#k)", names={"#k": "key"}
        )
        return await self._requests.put_if("mark_done", marker_put)

    async def is_done(self, name: str) -> bool:
        item = await self._requests.get_item(self._requests.tables.control, key(key=marker_key(name)))
        return item is not None


def limits_from_attributes(attributes: dict[str, Any]) -> DeskLimits:
    """The limits item as DeskLimits, each scope decoded on its own: `from_attributes` turns a record's own
    counts back into ints from DynamoDB's one number type, not those of the records nested in it."""

    def scope(value: dict[str, Any]) -> RiskLimits:
        return from_attributes(value["M"], RiskLimits)

    def scopes(name: str) -> dict[str, RiskLimits]:
        return {owner: scope(value) for owner, value in attributes.get(name, {"M": {}})["M"].items()}

    return DeskLimits(
        desk=scope(attributes["desk"]) if "desk" in attributes else RiskLimits(),
        users=scopes("users"),
        accounts=scopes("accounts"),
        version=int(attributes["version"]["N"]),
    )


def marker_key(name: str) -> str:
    """The control-table key of the marker `name`; ValueError for an empty name."""
    if not name:
        raise ValueError("a marker needs a name")
    return f"{MARKER_PREFIX}{name}"
