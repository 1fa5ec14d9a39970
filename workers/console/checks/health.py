"""`tradeflow health`: is every part of tradeflow reachable and working? A non-zero exit when not."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import msgspec
import pika

from workers.chain.rabbitmq import queue_depth
from workers.chain.routing import QUEUE_NAMES
from workers.settings import Settings


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def check_rabbitmq(settings: Settings) -> list[Check]:
    """Connection, and per queue (stages and the sweeper): depth, delayed, dead letters, consumers."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    except Exception as exc:
        return [Check("rabbitmq", False, f"unreachable: {type(exc).__name__}")]
    checks = [Check("rabbitmq", True, "connected")]
    try:
        for stage in QUEUE_NAMES:
            counts = {
                suffix or "ready": queue_depth(connection, settings.queue(stage) + suffix)
                for suffix in ("", ".DQ", ".XQ")
            }
            depth, consumers = counts["ready"]
            dead = counts[".XQ"][0]
            ok = consumers > 0 and dead == 0
            problems = [
                p
                for p, bad in (("no consumers", consumers == 0), (f"{dead} dead letter(s)", dead > 0))
                if bad
            ]
            checks.append(
                Check(
                    f"queue {settings.queue(stage)}",
                    ok,
                    f"{depth} ready, {counts['.DQ'][0]} delayed, {dead} dead, {consumers} consumer(s)"
                    + (f": {', '.join(problems)}" if problems else ""),
                    {"ready": depth, "delayed": counts[".DQ"][0], "dead": dead, "consumers": consumers},
                )
            )
    finally:
        connection.close()
    return checks


async def check_store(settings: Settings) -> Check:
    from workers.bootstrap import open_store

    started = time.perf_counter()
    try:
        store = await open_store(settings)
        try:
            switch = await store.get_kill_switch()
        finally:
            await store.close()
    except Exception as exc:
        return Check("dynamodb", False, f"unavailable: {type(exc).__name__}: {exc}")
    ms = (time.perf_counter() - started) * 1000
    halted = f"; trading HALTED ({switch.reason})" if switch.engaged else ""
    return Check("dynamodb", True, f"tables ready in {ms:.0f} ms{halted}", {"halted": switch.engaged})


async def check_alpaca(settings: Settings) -> Check:
    from brokers.fallback import FallbackBroker
    from workers.bootstrap import open_broker

    if not settings.alpaca_paper_enabled:
        return Check("alpaca", True, "off (ALPACA_PAPER_ENABLED=false): trades are simulated")
    broker = await open_broker(msgspec.structs.replace(settings, tradeflow_alpaca_stream=False))
    try:
        if not isinstance(broker, FallbackBroker) or broker.primary is None or broker.disabled_reason:
            reason = getattr(broker, "disabled_reason", "") or "not configured"
            return Check("alpaca", False, f"DISABLED by the paper guard: {reason}", {"paper_guard": "failed"})
        try:
            account = await broker.primary.verify()
        except Exception as exc:
            return Check("alpaca", False, f"unreachable ({exc}): trades would be simulated")
        return Check(
            "alpaca", True, f"paper account {account}, paper guard passed", {"paper_guard": "passed"}
        )
    finally:
        await broker.close()


async def check_slack(settings: Settings) -> Check:
    if settings.tradeflow_notifier != "slack":
        return Check("slack", True, f"notifier is {settings.tradeflow_notifier}")
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=5)
    try:
        answer = await client.auth_test()
    except Exception as exc:
        return Check("slack", False, f"auth.test failed: {exc}")
    return Check("slack", True, f"bot {answer.get('user_id')} in team {answer.get('team_id')}")


def run_health(settings: Settings) -> tuple[bool, list[dict[str, Any]]]:
    async def gather() -> list[Check]:
        return list(
            await asyncio.gather(check_store(settings), check_alpaca(settings), check_slack(settings))
        )

    checks = check_rabbitmq(settings) + asyncio.run(gather())
    return all(c.ok for c in checks), [asdict(c) for c in checks]


def render_health(checks: list[dict[str, Any]]) -> str:
    return "\n".join(f"{'✅' if c['ok'] else '❌'} {c['name']:<26} {c['detail']}" for c in checks)
