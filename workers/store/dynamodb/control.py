"""The kill switch and the leases on DynamoDB, as items of the control table: DynamoKillSwitchAndLeases."""

from __future__ import annotations

from botocore.exceptions import ClientError

from messages.records import ActivityEvent, KillSwitch
from workers.store.dynamodb.activity import DynamoActivityJournal
from workers.store.dynamodb.faults import error_code, transient_faults_as_unavailable
from workers.store.dynamodb.items import key, to_attributes
from workers.store.dynamodb.requests import DynamoRequests
from workers.store.dynamodb.tables import KILL_SWITCH_KEY
from workers.store.port import LeaseClaim


class DynamoKillSwitchAndLeases:
    """The KillSwitchAndLeases role; a switch set with its journal entry writes both in one transaction."""

    def __init__(self, requests: DynamoRequests, journal: DynamoActivityJournal) -> None:
        self._requests = requests
        self._journal = journal

    async def get_kill_switch(self, account: str | None = None, *, user_id: str | None = None) -> KillSwitch:
        switch_key = switch_key_of(account, user_id)
        switch = await self._requests.get(self._requests.tables.control, key(key=switch_key), KillSwitch)
        return switch or KillSwitch(engaged=False, account=account, user_id=user_id)

    async def set_kill_switch(self, switch: KillSwitch, activity: ActivityEvent | None = None) -> None:
        table, item = (
            self._requests.tables.control,
            to_attributes(switch, key=switch_key_of(switch.account, switch.user_id)),
        )
        if activity is None:
            with transient_faults_as_unavailable("set_kill_switch"):
                await self._requests.client.put_item(TableName=table, Item=item)
            return
        switch_put = {"Put": {"TableName": table, "Item": item}}
        if await self._requests.transact("set_kill_switch", [switch_put, self._journal.entry_put(activity)]):
            raise RuntimeError(f"journal entry {activity.event_id} exists already")

    async def claim_lease(self, name: str, *, now_ms: int, lease_ms: int) -> bool:
        return await self.claim_lease_over(name, now_ms=now_ms, lease_ms=lease_ms) is not LeaseClaim.HELD

    async def claim_lease_over(self, name: str, *, now_ms: int, lease_ms: int) -> LeaseClaim:
        until_ms = now_ms + lease_ms
        with transient_faults_as_unavailable("claim_lease"):
            try:
                answer = await self._requests.client.put_item(
                    TableName=self._requests.tables.control,
                    Item={
                        "key": {"S": f"lease#{name}"},
                        "lease_until_ms": {"N": str(until_ms)},
                        "expires_at": {"N": str(until_ms // 1000 + 86_400)},
                    },
                    ConditionExpression="attribute_not_exists(#k) OR lease_until_ms < :now",
                    ExpressionAttributeNames={"#k": "key"},
                    ExpressionAttributeValues={":now": {"N": str(now_ms)}},
                    ReturnValues="ALL_OLD",  # the run-out lease it replaced, if there was one
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return LeaseClaim.HELD
                raise
        return LeaseClaim.TAKEN_OVER if answer.get("Attributes") else LeaseClaim.TAKEN

    async def release_lease(self, name: str, *, claimed_at_ms: int, lease_ms: int) -> bool:
        # The lease's end time identifies its holder: a later holder can only claim once this lease has
        # run out, so its own lease always ends later than this one.
        with transient_faults_as_unavailable("release_lease"):
            try:
                await self._requests.client.delete_item(
                    TableName=self._requests.tables.control,
                    Key={"key": {"S": f"lease#{name}"}},
                    ConditionExpression="lease_until_ms = :until",
                    ExpressionAttributeValues={":until": {"N": str(claimed_at_ms + lease_ms)}},
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True


def switch_key_of(account: str | None, user_id: str | None = None) -> str:
    """The desk's switch keeps its key; an account's is `kill_switch#ACCOUNT`, a trader's
    `kill_switch#user#USER` (account names never hold `#`)."""
    if user_id is not None:
        return f"{KILL_SWITCH_KEY}#user#{user_id}"
    return KILL_SWITCH_KEY if account is None else f"{KILL_SWITCH_KEY}#{account}"
