"""DynamoTradeStore: the TradeStore port on DynamoDB, one object per role over one long-lived client."""

from __future__ import annotations

import contextlib
from typing import Any

from aiobotocore.config import AioConfig

from brokers.aws_sessions import new_session, verify_for
from workers.store.composed import ComposedTradeStore
from workers.store.dynamodb.activity import DynamoActivityJournal
from workers.store.dynamodb.audit import DynamoAuditTrail
from workers.store.dynamodb.control import DynamoKillSwitchAndLeases
from workers.store.dynamodb.desk_controls import DynamoDeskControls
from workers.store.dynamodb.heartbeats import DynamoHeartbeats
from workers.store.dynamodb.positions import DynamoPositions
from workers.store.dynamodb.queries import DynamoTradeQueries
from workers.store.dynamodb.requests import DynamoRequests
from workers.store.dynamodb.roster import DynamoRoster
from workers.store.dynamodb.schema import create_tables
from workers.store.dynamodb.tables import Encryption, TableNames, encryption_for
from workers.store.dynamodb.trades import DynamoTradeRecords


class DynamoTradeStore(ComposedTradeStore):
    """Trades, positions, audit, the kill switch, roles, the journal, heartbeats, the desk's limits and alert
    preferences: four tables (tables.py).

    Every write is conditional, so redelivered messages and racing workers cannot double-apply anything.
    """

    def __init__(
        self,
        client: Any,
        tables: TableNames,
        exit_stack: contextlib.AsyncExitStack,
        *,
        encryption: Encryption | None = None,
    ) -> None:
        requests = DynamoRequests(client, tables)
        audit = DynamoAuditTrail(requests)
        journal = DynamoActivityJournal(requests)
        super().__init__(
            records=DynamoTradeRecords(requests, audit),
            queries=DynamoTradeQueries(requests),
            positions=DynamoPositions(requests, audit),
            audit=audit,
            controls=DynamoKillSwitchAndLeases(requests, journal),
            roster=DynamoRoster(requests, journal),
            journal=journal,
            heartbeats=DynamoHeartbeats(requests),
            desk_controls=DynamoDeskControls(requests, journal),
        )
        self._client = client  # also where tests and the bench hook their request counters
        self._tables = tables
        self._exit_stack = exit_stack
        self._encryption = encryption  # what create_tables asks for at rest (tables.encryption_for)

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
        kms_key_id: str | None = None,
    ) -> DynamoTradeStore:
        """Open the client once; call `close()` when done. No request is sent here.

        On AWS (no endpoint, or an amazonaws.com one) `create_tables` creates the tables encrypted with
        KMS: the key `kms_key_id` names, or the AWS managed key. The client's session is a new one on the
        process's loader of botocore's models (brokers/aws_sessions.py).
        """
        tables = TableNames.from_prefix(table_prefix)
        config = AioConfig(
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=max_connections,
            # DynamoDB validates every request itself and answers ValidationException; botocore's own pass
            # over each request's parameters first cost about 6 % of a worker's CPU (py-spy, bench/README).
            parameter_validation=False,
        )
        exit_stack = contextlib.AsyncExitStack()
        client = await exit_stack.enter_async_context(
            new_session().create_client(
                "dynamodb",
                region_name=region,
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
                verify=verify_for(endpoint_url),
            )
        )
        return cls(client, tables, exit_stack, encryption=encryption_for(endpoint_url, kms_key_id))

    @property
    def tables(self) -> TableNames:
        return self._tables

    async def close(self) -> None:
        await self._exit_stack.aclose()

    async def create_tables(self) -> None:
        await create_tables(self._client, self._tables, self._encryption)
