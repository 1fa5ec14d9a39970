"""Who is at the keyboard, as far as the machine can tell: recorded beside every operator action.

`--as USER_ID` (or TRADEFLOW_OPERATOR) is a claim: anyone holding the stack's credentials may type any id.
The role check is a safety interlock against mistakes, not authentication. What the machine itself knows
is recorded beside the claim so a reviewer can tell who really ran a command: the OS user, the host, and,
on AWS, the caller identity the credentials belong to (STS GetCallerIdentity, which needs no permission).
"""

from __future__ import annotations

import getpass
import os
import socket
from typing import Any
from urllib.parse import urlsplit

import aioboto3
from aiobotocore.config import AioConfig

from messages.records import ActivityEvent, ActivityStream
from workers.access.journal import Journal
from workers.bootstrap import dynamodb_keys
from workers.settings import Settings

STS_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_STS"  # botocore's own name for an STS endpoint override


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a bare container)
        return f"uid:{os.getuid()}"


def on_aws(settings: Settings) -> bool:
    """The credentials are AWS's own: DynamoDB on AWS (no endpoint, or an amazonaws.com one), or an STS
    endpoint given explicitly (a VPC endpoint; the tests' moto server)."""
    if os.environ.get(STS_ENDPOINT_VARIABLE):
        return True
    if settings.tradeflow_store != "dynamodb":
        return False
    endpoint = settings.aws_endpoint_url_dynamodb
    host = (urlsplit(endpoint).hostname or "").lower() if endpoint else ""
    return endpoint is None or host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


async def aws_caller(settings: Settings) -> str:
    """The ARN the credentials act as; `unavailable: …` when STS cannot say (never a reason to refuse)."""
    config = AioConfig(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 2})
    access_key_id, secret_access_key = dynamodb_keys(settings)  # the keys the store signs with
    try:
        async with aioboto3.Session().client(
            "sts",
            region_name=settings.aws_region,
            endpoint_url=os.environ.get(STS_ENDPOINT_VARIABLE) or None,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        ) as sts:
            identity = await sts.get_caller_identity()
    except Exception as exc:  # any failure is recorded as such; the command itself goes on
        return f"unavailable: {type(exc).__name__}"
    return str(identity["Arn"])


async def caller_facts(settings: Settings) -> dict[str, str]:
    facts = {"os_user": os_user(), "host": socket.gethostname()}
    if on_aws(settings):
        facts["aws_caller"] = await aws_caller(settings)
    return facts


class CallerJournal(Journal):
    """A journal whose every entry carries `caller`: the facts of who ran the command (caller_facts)."""

    def __init__(self, journal: Journal, caller: dict[str, str]) -> None:
        super().__init__(journal.store, journal.retention_days, journal.clock)
        self.caller = caller

    def entry(self, stream: ActivityStream, event_type: str, actor: str, **details: Any) -> ActivityEvent:
        return super().entry(stream, event_type, actor, **details, caller=self.caller)
