"""What a kind's injection works with (`KindRun`), what it leaves on record (`Injection`), what its check
reads (`Seen`) and what the check says (`KindOutcome`)."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bench.stack import LoopbackStack
from emulators.alpaca.admin_client import AdminClient as AlpacaAdmin
from emulators.slack.admin_client import AdminClient as SlackAdmin
from messages.records import TradeRecord
from tests.faults.cluster import RabbitCluster
from tests.faults.kinds.probes import Probes
from tests.faults.rabbitmq_node import RabbitNode
from workers.bootstrap import open_store
from workers.settings import Settings, load_settings
from workers.store.port import TradeStore


class Restarts(Protocol):
    """What a kind borrows from the campaign's Injector (tests/faults/injectors.py)."""

    def kill_worker(self, stage: str, pause_s: float, why: str = "") -> None: ...

    def start_dynamodb(self) -> None: ...

    def stop_dynamodb(self) -> None: ...


class FaultLog(Protocol):
    guard_windows: list[tuple[float, float]]

    def add(self, kind: str, detail: str = "") -> None: ...


@dataclass
class FaultLocks:
    """Faults that must not overlap, each behind its lock (the campaign's own faults take them too)."""

    rabbitmq: threading.Lock = field(default_factory=threading.Lock)  # two nodes down: no quorum left
    store: threading.Lock = field(default_factory=threading.Lock)  # one DynamoDB Local stop at a time
    account: threading.Lock = field(default_factory=threading.Lock)  # one account-number change at a time


# The kinds that need the whole chain for a while, each with the moment that ends its need: the Alpaca kinds
# until orders met their faults, the approval kinds until their requests were posted in the approvers'
# channel and clicked (the expiry race: posted). The kinds that stop the chain wait for them that long.
ORDER_KINDS = frozenset(
    {
        "alpaca_resend_504_429",
        "alpaca_resend_504_403",
        "alpaca_call_outlives_limit",
        "alpaca_disabled_after_crash",
    }
)
APPROVAL_KINDS = frozenset({"approval_clicked_twice", "approval_races_expiry"})
FIRST_KINDS = ORDER_KINDS | APPROVAL_KINDS
FIRST_MAX_S = 75.0
# The expiry race holds the store up for its last seconds: the long store outage waits for the race too
# (its request's time to live runs meanwhile), the other long faults only for its request to be posted.
RACE_SENT = "approval race sent"


@dataclass
class FirstKinds:
    """The kinds that stop the chain (persistence down past the deadline, the store down past every retry, a
    RabbitMQ node lost) start once the kinds that need the chain (FIRST_KINDS) are done with it, or
    FIRST_MAX_S after they asked.

    While the chain is stopped no order reaches Alpaca and no approval request is posted, and every trade
    submitted meanwhile ends late: a kind planned beside them waited the whole stop and the recovery before
    it met anything (the crash kind then another lease after that), the campaign's longest path by far. The
    faults still overlap: the first kinds' own settling (a lease run out, a request's time to live) happens
    while the chain is stopped.

    RabbitMQ's memory alarm (rabbitmq_blocked) and a node's restart (bounce_rabbitmq) wait for the approval
    kinds only (APPROVAL_KINDS): together they held every publisher back for 30 s or more, so an approval's
    request was posted that much later, and the expiry race, the long store outage after it and the
    campaign's end came later with it.
    """

    _left: Counter[str] = field(default_factory=Counter)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def expect(self, kinds: Iterable[str]) -> None:
        """The planned injections, one name each (several of a kind: each must be done)."""
        with self._changed:
            self._left = Counter(kind for kind in kinds if kind in FIRST_KINDS)
            self._left[RACE_SENT] = self._left["approval_races_expiry"]
            self._changed.notify_all()

    def done(self, kind: str) -> None:
        """One injection of `kind` is done with the chain (or gave up on it)."""
        with self._changed:
            self._left[kind] = max(0, self._left[kind] - 1)
            self._changed.notify_all()

    def wait(
        self, kinds: frozenset[str] = FIRST_KINDS, timeout_s: float = FIRST_MAX_S, leaving: int = 0
    ) -> bool:
        """True once every injection of `kinds` but `leaving` is done; False if `timeout_s` ran out first."""
        with self._changed:
            return self._changed.wait_for(lambda: sum(self._left[k] for k in kinds) <= leaving, timeout_s)


@dataclass
class Injection:
    """One injection of a kind: when, on which trades, and what it saw while it ran."""

    kind: str
    started: float
    ended: float
    trade_ids: list[uuid.UUID] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what the injection itself saw go wrong


@dataclass
class KindRun:
    """Everything a kind's injection needs; `injections` is what the checks read afterwards."""

    stack: LoopbackStack
    log: FaultLog
    rabbitmq: RabbitNode | RabbitCluster
    users: list[str]
    settings: Settings
    restarts: Restarts | None = None  # the Injector, once it exists
    locks: FaultLocks = field(default_factory=FaultLocks)
    first: FirstKinds = field(default_factory=FirstKinds)
    injections: list[Injection] = field(default_factory=list)
    alpaca: AlpacaAdmin = field(init=False)
    slack: SlackAdmin = field(init=False)
    probes: Probes = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.alpaca = AlpacaAdmin(self.stack.alpaca_origin)
        self.slack = SlackAdmin(self.stack.slack_origin)
        self.probes = Probes(self.stack.ingress_url, self.settings.slack_signing_secret, self.users)

    @property
    def injector(self) -> Restarts:
        if self.restarts is None:
            raise RuntimeError("the Injector has not bound itself to this run")
        return self.restarts

    def record(self, injection: Injection) -> None:
        injection.ended = time.time()
        with self._lock:
            self.injections.append(injection)

    def done_first(self, kind: str, what: str) -> None:
        """`kind` is done with the chain (FirstKinds): on the fault log's timeline, and told to the kinds that
        wait for it."""
        self.log.add("done with the chain", f"{kind}: {what}")
        self.first.done(kind)

    def of(self, kind: str) -> list[Injection]:
        with self._lock:
            return [i for i in self.injections if i.kind == kind]

    def store_now(self, work: Any) -> Any:
        """Run `work(store)` (a coroutine function) on a store opened for it, from a fault's thread."""

        async def run() -> Any:
            store = await open_store(load_settings(self.stack.settings_env()))
            try:
                return await work(store)
            finally:
                await store.close()

        return asyncio.run(run())

    def user(self, rng: random.Random) -> str:
        return self.users[rng.randrange(len(self.users))]


def begin(kind: str) -> Injection:
    return Injection(kind, time.time(), 0.0)


@dataclass
class Seen:
    """What the checks read once, after the campaign settled: trades, orders, requests, DMs, dead letters."""

    store: TradeStore
    settings: Settings
    trades: dict[uuid.UUID, TradeRecord | None]
    orders: list[dict[str, Any]]
    order_requests: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    dead_letter_trades: set[str]

    def orders_of(self, trade_id: uuid.UUID | str) -> list[dict[str, Any]]:
        return [o for o in self.orders if o["client_order_id"] == str(trade_id)]

    def requests_of(self, trade_id: uuid.UUID | str) -> list[dict[str, Any]]:
        return [r for r in self.order_requests if r["client_order_id"] == str(trade_id)]

    def told_how_it_ended(self, trade_id: uuid.UUID) -> bool:
        """Its outcome (or "not executed") told exactly once, or, still open, told it is being worked on."""
        told, record = self.notices(), self.trades.get(trade_id)
        ended = told[(str(trade_id), "outcome")] + told[(str(trade_id), "not_executed")]
        return ended == 1 or (
            ended == 0 and record is not None and record.is_open and told[(str(trade_id), "working")] > 0
        )

    def notices(self) -> Counter[tuple[str, str]]:
        """(trade id, notice) of every DM that carries tradeflow's metadata, counted."""
        told: Counter[tuple[str, str]] = Counter()
        for message in self.messages:
            payload = notice_payload(message)
            if payload is not None:
                told[payload] += 1
        return told


def notice_payload(message: dict[str, Any]) -> tuple[str, str] | None:
    """(trade id, notice) from a DM's Slack message metadata, or None for any other message."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != "tradeflow_trade_notice":
        return None
    payload = metadata.get("event_payload") or {}
    return str(payload.get("trade_id")), str(payload.get("notice"))


def parse_time(text: str) -> float:
    """An RFC 3339 time (the emulators' nanosecond ones too) as epoch seconds."""
    head, _, rest = text.replace("Z", "+00:00").partition(".")
    if not rest:
        return datetime.fromisoformat(head).timestamp()
    digits = "".join(c for c in rest if c.isdigit())
    zone = rest[len(digits) :]
    return datetime.fromisoformat(f"{head}.{digits[:6].ljust(6, '0')}{zone}").timestamp()


@dataclass
class KindOutcome:
    """A kind's line in the summary: how often it was injected, on how many trades, and what broke."""

    kind: str
    injected: int
    trades: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, kind: str, injections: list[Injection], trades: int) -> KindOutcome:
        """An outcome that starts with what the injections themselves saw go wrong."""
        return cls(kind, len(injections), trades, [p for i in injections for p in i.problems])

    @property
    def ok(self) -> bool:
        return self.injected > 0 and not self.problems

    def line(self) -> str:
        if self.injected == 0:
            verdict = "✗ never injected"
        elif self.problems:
            verdict = f"✗ {len(self.problems)} problem(s): {'; '.join(self.problems[:3])}"
        else:
            verdict = "ok"
        notes = f" ({'; '.join(self.notes)})" if self.notes else ""
        return f"{self.kind}: injected {self.injected}, {self.trades} trade(s) checked: {verdict}{notes}"
