"""Who runs an operator or admin command, and whether they may: checked before the command does anything.

The identity is `--as USER_ID`, else TRADEFLOW_OPERATOR: a claim, checked against the roster as a safety
interlock for people who already hold the stack's credentials, never as authentication. Every journal
entry the command writes carries what the machine knows of its caller (caller.py). The roster is seeded
from the settings first (so a fresh deployment's first admin exists), then read without a cache. A refusal
is journaled in the "access" stream with the command and the role it needed, and the command does nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from messages.records import Role
from workers.access.journal import Journal
from workers.access.roles import seed_from_settings
from workers.console.access.caller import CallerJournal, caller_facts
from workers.console.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, print_doc, with_store
from workers.settings import Settings
from workers.store.port import TradeStore

T = TypeVar("T")
USER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # messages.types.UserId's pattern


class AccessRefused(Exception):
    """The command was not run; the message says why, and what would let it run."""

    exit_code = EXIT_REFUSED


class NoIdentity(AccessRefused):
    exit_code = EXIT_USAGE


def identity(given: str | None, settings: Settings) -> str:
    """The user id the command runs as; NoIdentity when there is none, or it is not a user id."""
    actor = given or settings.tradeflow_operator
    if not actor:
        raise NoIdentity("who is running this? Give --as USER_ID or set TRADEFLOW_OPERATOR")
    if not USER_ID.match(actor):
        raise NoIdentity(f"{actor!r} is not a Slack user id (1-64 of A-Z a-z 0-9 _ . : -)")
    return actor


async def require_role(
    store: TradeStore, journal: Journal, settings: Settings, actor: str, role: Role, command: str
) -> None:
    """Return when `actor` holds `role`; else journal the refusal and raise AccessRefused."""
    await seed_from_settings(store, journal, settings)
    held = (await store.get_roster()).roles_of(actor)
    if role in held:
        return
    await journal.record(
        "access", "command_refused", actor, command=command, required_role=role, roles=sorted(held)
    )
    raise AccessRefused(
        f"{actor} does not have the {role} role that `tradeflow {command}` needs; nothing was done. "
        f"Ask an admin: tradeflow users add {actor} --role {role}"
    )


def run_as(
    settings: Settings,
    given: str | None,
    role: Role,
    command: str,
    work: Callable[[TradeStore, Journal, str], Awaitable[T]],
) -> T:
    """Open the store, check that the caller holds `role`, then run `work(store, journal, actor)`."""
    actor = identity(given, settings)

    async def checked(store: TradeStore) -> Any:
        journal = CallerJournal(
            Journal(store, settings.tradeflow_audit_retention_days), await caller_facts(settings)
        )
        await require_role(store, journal, settings, actor, role, command)
        return await work(store, journal, actor)

    result: T = with_store(settings, checked)
    return result


def run_and_print(
    settings: Settings,
    args: argparse.Namespace,
    role: Role,
    command: str,
    work: Callable[[TradeStore, Journal, str], Awaitable[dict[str, Any]]],
    render: Callable[[dict[str, Any]], str],
) -> int:
    """`run_as` for `args.operator`, then its document printed (`args.json`: as JSON); a refusal said on
    stderr with its exit code."""
    try:
        doc = run_as(settings, args.operator, role, command, work)
    except AccessRefused as exc:
        print(f"tradeflow {command}: {exc}", file=sys.stderr)
        return exc.exit_code
    print_doc(doc, args.json, render)
    return EXIT_OK


def operate(
    settings: Settings,
    given: str | None,
    command: str,
    action: Callable[[str], dict[str, Any]],
    entry: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    """Run the blocking `action(actor)` (RabbitMQ's work) as an operator, then journal `entry(result)`.

    The journal entry follows the action: it records what was done, so nothing is recorded for an action
    that raised. A crash between the two leaves the action unjournaled (RabbitMQ and DynamoDB share no
    transaction); the action's own records (`replayed_by` on a replayed message) still name the operator.
    """

    async def work(store: TradeStore, journal: Journal, actor: str) -> dict[str, Any]:
        doc = await asyncio.to_thread(action, actor)
        event_type, details = entry(doc)
        await journal.record("ops", event_type, actor, **details)
        return doc

    return run_as(settings, given, "operator", command, work)
