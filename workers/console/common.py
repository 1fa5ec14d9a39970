"""What the `tradeflow` commands share: exit codes, printing for people or JSON, a store for one command."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from workers.settings import Settings
from workers.store.port import TradeStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_REFUSED = 3  # the caller lacks the role the command needs (journaled)
EXIT_UNAVAILABLE = 4  # RabbitMQ, DynamoDB or another service the command needs could not be reached
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports it
EXIT_CODES_HELP = (
    "0 done, 1 failed or unhealthy, 2 usage (a bad argument or setting, no terminal to confirm on), "
    "3 refused (a role is missing), 4 a service is unreachable, 130 interrupted"
)
Command = Callable[[argparse.Namespace, Settings], int]


def print_doc(doc: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    print(json.dumps(doc, indent=2, default=str) if as_json else render(doc))


def with_store(settings: Settings, work: Callable[[TradeStore], Awaitable[Any]]) -> Any:
    from workers.bootstrap import open_store

    async def run() -> Any:
        store = await open_store(settings)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())
