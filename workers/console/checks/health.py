"""`tradeflow health`: is every part of tradeflow reachable and working? A non-zero exit when not.

Per queue: its depths, its consumers, and the worker processes that beat for it (checks/liveness.py); for
an XQ holding dead letters, how old the oldest is and when RabbitMQ's TTL drops it, with an ALERT once it is
older than TRADEFLOW_DEAD_LETTER_ALERT_AGE_S (checks/dead_letter_age.py).
Per Alpaca account: what is left of its request budget, shared by every process (brokers/alpaca_budget.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from pika.exceptions import AMQPError

from brokers.alpaca_budget import AccountBudget
from brokers.port import BrokerBusy
from messages.records import Heartbeat
from workers.chain.rabbitmq import connect_rabbitmq, queue_depth
from workers.chain.routing import QUEUE_NAMES
from workers.console.checks.dead_letter_age import (
    dead_letter_alert,
    dead_letter_words,
    oldest_dead_letter,
)
from workers.console.checks.liveness import heartbeats_detail, process_facts, queue_liveness
from workers.console.dlq.channel import DeadLetterChannel
from workers.handlers.halts import halted_traders
from workers.settings import Settings


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def check_rabbitmq(
    settings: Settings, heartbeats: Sequence[Heartbeat] | None = None, now: datetime | None = None
) -> list[Check]:
    """Connection, and per queue (stages and the sweeper): depth, delayed, dead letters, consumers, and
    the processes beating for it (unless `heartbeats` is None: the store could not tell). Of several
    RABBITMQ_URL nodes the first that answers is asked: every node of a cluster sees every queue.

    Of a queue with dead letters, the age of the oldest (as of `now`) and when the XQ's TTL drops it:
    read-only, every letter read is handed back (checks/dead_letter_age.py says how, and what a read does to
    a quorum XQ's order). Any dead letter makes the check fail; one older than
    TRADEFLOW_DEAD_LETTER_ALERT_AGE_S adds an ALERT to its detail."""
    now = now or datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    nodes = len(settings.rabbitmq_urls)
    try:
        connection = connect_rabbitmq(settings.rabbitmq_urls)
    except Exception as exc:
        tried = f" (none of {nodes} nodes answered)" if nodes > 1 else ""
        return [Check("rabbitmq", False, f"unreachable: {type(exc).__name__}{tried}")]
    checks = [Check("rabbitmq", True, "connected" + (f" (one of {nodes} nodes)" if nodes > 1 else ""))]
    letters = DeadLetterChannel(connection)
    try:
        for stage in QUEUE_NAMES:
            counts = {
                suffix or "ready": queue_depth(connection, settings.queue(stage) + suffix)
                for suffix in ("", ".DQ", ".XQ")
            }
            depth, consumers = counts["ready"]
            dead = counts[".XQ"][0]
            problems = [
                p
                for p, bad in (("no consumers", consumers == 0), (f"{dead} dead letter(s)", dead > 0))
                if bad
            ]
            data: dict[str, Any] = {
                "ready": depth,
                "delayed": counts[".DQ"][0],
                "dead": dead,
                "consumers": consumers,
                "oldest_dead_letter_age_s": None,
                "dead_letter_expires_in_s": None,
                "dead_letter_alert": False,
                "dead_letters_read": 0,
            }
            dead_words, alert = f"{dead} dead", None
            if dead > 0:
                dead_words, alert = _dead_letter_age(letters, settings, stage, dead, now_ms, data)
            detail = f"{depth} ready, {counts['.DQ'][0]} delayed, {dead_words}, {consumers} consumer(s)"
            if heartbeats is not None:
                flags, words, facts = queue_liveness(settings.queue(stage), consumers, heartbeats, now)
                problems += flags
                detail += f", {words}"
                data |= facts
            if alert is not None:
                problems.append(alert)
            checks.append(
                Check(
                    f"queue {settings.queue(stage)}",
                    not problems,
                    detail + (f": {', '.join(problems)}" if problems else ""),
                    data,
                )
            )
    finally:
        connection.close()
    return checks


def _dead_letter_age(
    letters: DeadLetterChannel, settings: Settings, stage: str, dead: int, now_ms: int, data: dict[str, Any]
) -> tuple[str, str | None]:
    """The words on a queue's dead letters, and its ALERT (or None); their figures go into `data`."""
    try:
        oldest = oldest_dead_letter(letters, settings.queue(stage) + ".XQ", now_ms)
    except AMQPError as exc:
        return f"{dead} dead (oldest unreadable: {type(exc).__name__})", None
    alert = dead_letter_alert(oldest, settings.tradeflow_dead_letter_alert_age_s)
    data.update(
        oldest_dead_letter_age_s=None if oldest.age_s is None else int(oldest.age_s),
        dead_letter_expires_in_s=None if oldest.expires_in_s is None else int(oldest.expires_in_s),
        dead_letter_alert=alert is not None,
        dead_letters_read=oldest.read,
    )
    return dead_letter_words(dead, oldest), alert


async def check_store(settings: Settings) -> tuple[Check, list[Heartbeat] | None]:
    """The store's check, and the heartbeats it keeps (None when it cannot be read, or is this process's
    own memory, where no worker beats)."""
    from workers.bootstrap import open_store

    started = time.perf_counter()
    try:
        store = await open_store(settings)
        try:
            switch = await store.get_kill_switch()
            named = settings.account_names if len(settings.account_names) > 1 else ()
            halted_accounts = [a for a in named if (await store.get_kill_switch(a)).engaged]
            traders = await halted_traders(store)
            heartbeats = await store.list_heartbeats()
        finally:
            await store.close()
    except Exception as exc:
        return Check("dynamodb", False, f"unavailable: {type(exc).__name__}: {exc}"), None
    ms = (time.perf_counter() - started) * 1000
    halted = f"; trading HALTED ({switch.reason})" if switch.engaged else ""
    if halted_accounts:
        halted += f"; HALTED in account(s) {', '.join(halted_accounts)}"
    if traders:
        halted += "; " + ", ".join(f"{user} {mode.upper()}" for user, mode in traders.items())
    facts = {"halted": switch.engaged, "halted_accounts": halted_accounts, "halted_traders": traders}
    check = Check("dynamodb", True, f"tables ready in {ms:.0f} ms{halted}", facts)
    return check, None if settings.tradeflow_store == "memory" else heartbeats


def check_heartbeats(heartbeats: Sequence[Heartbeat], now: datetime) -> Check:
    """Every process that beats, live or silent (a silent one is flagged on its queues, not here)."""
    return Check(
        "heartbeats",
        True,
        heartbeats_detail(heartbeats, now),
        {"processes": [process_facts(beat, now) for beat in heartbeats]},
    )


async def check_alpaca(settings: Settings) -> list[Check]:
    """The account and the paper guard; then the account's rate budget (its own check)."""
    from brokers.fallback import FallbackBroker
    from workers.bootstrap import open_broker

    if not settings.alpaca_paper_enabled:
        return [Check("alpaca", True, "off (ALPACA_PAPER_ENABLED=false): trades are simulated")]
    broker = await open_broker(msgspec.structs.replace(settings, tradeflow_alpaca_stream=False))
    try:
        if not isinstance(broker, FallbackBroker) or broker.primary is None or broker.disabled_reason:
            reason = getattr(broker, "disabled_reason", "") or "not configured"
            return [
                Check("alpaca", False, f"DISABLED by the paper guard: {reason}", {"paper_guard": "failed"})
            ]
        budget = check_rate_budget(broker.primary.budget)
        try:
            account = await broker.primary.verify()
        except BrokerBusy as exc:  # the budget is the trades': its own check below says what is left
            return [Check("alpaca", True, f"not asked now ({exc}): checked before every order"), budget]
        except Exception as exc:
            return [Check("alpaca", False, f"unreachable ({exc}): trades would be simulated"), budget]
        passed = Check(
            "alpaca", True, f"paper account {account}, paper guard passed", {"paper_guard": "passed"}
        )
        return [passed, budget]
    finally:
        await broker.close()


async def check_positions(settings: Settings) -> Check:
    """tradeflow's positions beside the account's at Alpaca (`tradeflow positions reconcile`): a drift
    fails the check; what keeps them from being compared is the store's or Alpaca's own check to say."""
    from workers.console.trades.positions_reconcile import reconcile_positions

    if not settings.alpaca_paper_enabled:
        return Check("positions", True, "not compared: the simulation keeps no account")
    try:
        doc = await reconcile_positions(settings)
    except Exception as exc:  # the store's own check says why it cannot be read
        return Check("positions", True, f"not compared: {type(exc).__name__}")
    if not doc["compared"]:
        return Check("positions", True, f"not compared: {doc['why']}")
    if doc["drift"]:
        rows = {row["symbol"]: row for row in doc["symbols"]}
        drifts = ", ".join(
            f"{s} (Alpaca {rows[s]['alpaca']}, tradeflow {rows[s]['tradeflow']})" for s in doc["drift"]
        )
        detail = f"DRIFT from the account at Alpaca: {drifts}; see tradeflow positions reconcile"
        return Check("positions", False, detail, {"drift": doc["drift"]})
    matched = f"{len(doc['symbols'])} symbol(s) match the account at Alpaca"
    return Check("positions", True, matched, {"drift": []})


def check_rate_budget(budget: AccountBudget | None) -> Check:
    """What is left of the account's request budget on each API, as every process shares it."""
    from brokers.shared_state import SharedStateUnavailable

    if budget is None:
        return Check("alpaca rate budget", True, "not counted here")
    try:
        lanes = budget.snapshot()
    except SharedStateUnavailable as exc:
        return Check(
            "alpaca rate budget",
            False,
            f"unreadable ({exc}): no request may leave for Alpaca until it is back",
        )
    words: list[str] = []
    data: dict[str, Any] = {"account": budget.account, "state": budget.state.name}
    for lane in lanes:
        said = f", Alpaca says {lane.alpaca_remaining} left" if lane.alpaca_remaining is not None else ""
        paused = f", PAUSED {lane.paused_for_s:g} s by Alpaca" if lane.paused_for_s > 0 else ""
        words.append(f"{lane.lane} {lane.remaining}/{lane.limit} left per {lane.window_s} s{said}{paused}")
        data[lane.lane] = {
            "limit": lane.limit,
            "window_s": lane.window_s,
            "used": lane.used,
            "remaining": lane.remaining,
            "paused_for_s": lane.paused_for_s,
            "alpaca_remaining": lane.alpaca_remaining,
            "alpaca_reset_at": lane.alpaca_reset_at,
        }
    return Check(
        "alpaca rate budget",
        True,
        f"account {budget.account} ({budget.state.name}): " + "; ".join(words),
        data,
    )


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
    async def gather() -> tuple[tuple[Check, list[Heartbeat] | None], list[Check], Check, Check]:
        return await asyncio.gather(
            check_store(settings), check_alpaca(settings), check_positions(settings), check_slack(settings)
        )

    (store, heartbeats), alpaca, positions, slack = asyncio.run(gather())
    now = datetime.now(UTC)
    checks = check_rabbitmq(settings, heartbeats, now)
    if heartbeats is not None:
        checks.append(check_heartbeats(heartbeats, now))
    checks += [store, *alpaca, positions, slack]
    return all(c.ok for c in checks), [asdict(c) for c in checks]


def render_health(checks: list[dict[str, Any]]) -> str:
    return "\n".join(f"{'✅' if c['ok'] else '❌'} {c['name']:<26} {c['detail']}" for c in checks)
