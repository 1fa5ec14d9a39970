"""The faults the campaign injects. A run's faults are planned up front from its seed (what, when, with
which parameters), so the same seed replays the same faults even though they run in threads; each injection
appends a line to the run's fault log (time, kind, detail).
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.stack import LoopbackStack
from emulators.alpaca.admin_client import AdminClient as AlpacaAdmin
from emulators.slack.admin_client import AdminClient as SlackAdmin
from tests.faults.cluster import RabbitCluster
from tests.faults.kinds import registry
from tests.faults.kinds.context import APPROVAL_KINDS, FaultLocks, KindRun
from tests.faults.rabbitmq_node import RabbitNode
from workers.chain.routing import STAGE_NAMES

ALPACA_TIMEOUT_S = 2.0  # the workers' TRADEFLOW_ALPACA_TIMEOUT_S in a campaign; "slow" answers take longer

# Every kind of fault, by the Injector method that injects it, and the fault log's line for its injection.
# A campaign, whatever its N, plans each of them at least once (`plan_faults`).
FAULT_KINDS = {
    "kill_worker": "kill -9 worker",
    "bounce_rabbitmq": "rabbitmq stop_app",
    "restart_dynamodb": "dynamodb local stopped",
    "alpaca_http_error": "alpaca http error",
    "alpaca_slow": "alpaca slower than the timeout",
    "alpaca_accept_then_drop": "alpaca accept-then-drop",
    "market_closed": "market closed",
    "slack_rate_limited": "slack 429",
    "slack_error": "slack 500",
    "paper_guard_fails": "paper guard: live account",
}


@dataclass(frozen=True)
class Fault:
    at_s: float  # seconds after the load starts
    kind: str  # an Injector method
    params: dict[str, Any]


@dataclass
class FaultLog:
    started: float = field(default_factory=time.time)
    entries: list[tuple[float, str, str]] = field(default_factory=list)
    guard_windows: list[tuple[float, float]] = field(default_factory=list)  # epoch seconds
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, detail: str = "") -> None:
        with self._lock:
            self.entries.append((time.time(), kind, detail))

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for _, kind, _ in self.entries:
            counted[kind] = counted.get(kind, 0) + 1
        return counted


def plan_faults(
    rng: random.Random, n_trades: int, duration_s: float, users: tuple[str, ...] = ("UF000",)
) -> list[Fault]:
    """Every kind at least once (each Alpaca slowness phase and both Slack faults too, and each of
    tests/faults/kinds'), more as N grows, at random times within the load."""
    scale = max(1, n_trades // 100)
    kills = max(len(STAGE_NAMES), 2 * scale)
    planned: list[tuple[str, dict[str, Any]]] = [
        ("kill_worker", {"stage": STAGE_NAMES[n % len(STAGE_NAMES)], "pause_s": rng.uniform(0.3, 1.5)})
        for n in range(kills)
    ]
    for _ in range(1 + scale // 5):
        planned.append(("bounce_rabbitmq", {"down_s": rng.uniform(1.0, 3.0)}))
        planned.append(("restart_dynamodb", {"down_s": rng.uniform(0.5, 2.0)}))
    for n in range(2 * scale):
        status = rng.choice((500, 503, 429))
        path = rng.choice(("/v2/orders", "/v2/account", "*"))
        planned.append(("alpaca_http_error", {"status": status, "path": path, "times": rng.randint(1, 3)}))
        if n == 0 or (n > 1 and rng.random() < 0.5):
            planned.append(("slack_rate_limited", {"times": rng.randint(1, 3)}))
        else:
            planned.append(("slack_error", {"times": rng.randint(1, 2)}))
    for n in range(scale):
        planned.append(
            (
                "alpaca_slow",
                {
                    "phase": "before" if n == 0 else rng.choice(("before", "after")),
                    "delay_s": ALPACA_TIMEOUT_S + rng.uniform(0.5, 1.5),
                },
            )
        )
        if n == 0:  # and slower after the order was accepted: the unknown outcome
            planned.append(
                ("alpaca_slow", {"phase": "after", "delay_s": ALPACA_TIMEOUT_S + rng.uniform(0.5, 1.5)})
            )
        planned.append(("alpaca_accept_then_drop", {}))
        planned.append(("market_closed", {"closed_s": rng.uniform(1.0, 3.0)}))
    # longer than the checks' grace (two Alpaca timeouts), so part of the window is always checked
    planned.append(("paper_guard_fails", {"live_s": rng.uniform(6.0, 9.0)}))
    planned += registry.plan_kinds(rng, list(users), scale)
    return sorted(
        (Fault(rng.uniform(0.05, 0.85) * duration_s, kind, params) for kind, params in planned),
        key=lambda fault: fault.at_s,
    )


@dataclass
class Injector:
    stack: LoopbackStack
    log: FaultLog
    rabbitmq: RabbitNode | RabbitCluster  # the campaign's own RabbitMQ, the one its stack uses
    kinds: KindRun | None = None  # tests/faults/kinds' injections, when the campaign plans them
    locks: FaultLocks = field(default_factory=FaultLocks)  # faults that must not overlap
    alpaca: AlpacaAdmin = field(init=False)
    slack: SlackAdmin = field(init=False)
    _stage_locks: dict[str, threading.Lock] = field(init=False)
    # DynamoDB Local asks the kernel for SIGTERM when the thread that started it ends (PR_SET_PDEATHSIG is
    # per thread): a restart is started from this one thread, which lives until close(), never from a
    # fault's own short-lived thread.
    _starter: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.alpaca = AlpacaAdmin(self.stack.alpaca_origin)
        self.slack = SlackAdmin(self.stack.slack_origin)
        self._stage_locks = {stage: threading.Lock() for stage in STAGE_NAMES}
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fault-starter")
        if self.kinds is not None:
            self.kinds.restarts, self.kinds.locks = self, self.locks

    def close(self) -> None:
        """After the stack is closed: the thread that started any DynamoDB Local again ends."""
        self._starter.shutdown(wait=True)

    def inject(self, fault: Fault) -> None:
        if fault.kind in registry.INJECTIONS:
            if self.kinds is None:
                raise RuntimeError(f"{fault.kind} needs the campaign's KindRun")
            registry.inject(self.kinds, fault.kind, fault.params)
        else:
            getattr(self, fault.kind)(**fault.params)

    def kill_worker(self, stage: str, pause_s: float, why: str = "") -> None:
        """kill -9 the stage's worker while it works, then start it again."""
        with self._stage_locks[stage]:
            self.stack.kill_stage(stage)
            self.log.add("kill -9 worker", f"{stage}{why}")
            time.sleep(pause_s)
            self.stack.start_stage(stage)

    def bounce_rabbitmq(self, down_s: float) -> None:
        if self.kinds is not None:  # see FirstKinds: a node's stop_app and start_app take seconds each
            self.kinds.first.wait(APPROVAL_KINDS)
        with self.locks.rabbitmq:
            self.log.add("rabbitmq stop_app")
            self.rabbitmq.stop_app()
            time.sleep(down_s)
            self.rabbitmq.start_app()
            self.log.add("rabbitmq start_app")

    def restart_dynamodb(self, down_s: float) -> None:
        with self.locks.store:
            self.stack.stop_dynamodb()
            self.log.add("dynamodb local stopped")
            time.sleep(down_s)
            self.start_dynamodb()
            self.log.add("dynamodb local restarted", "same -dbPath")

    def stop_dynamodb(self) -> None:
        self.stack.stop_dynamodb()

    def start_dynamodb(self) -> None:
        self._starter.submit(self.stack.start_dynamodb).result()

    def alpaca_http_error(self, status: int, path: str, times: int) -> None:
        extra = {"retry_after_s": 1} if status == 429 else {}
        self.alpaca.add_fault("http_error", status=status, path=path, times=times, **extra)
        self.log.add("alpaca http error", f"{status} on {path} ×{times}")

    def alpaca_slow(self, phase: str, delay_s: float) -> None:
        self.alpaca.add_fault(
            "slow", delay_s=round(delay_s, 2), phase=phase, method="POST", path="/v2/orders"
        )
        self.log.add("alpaca slower than the timeout", f"{delay_s:.1f}s {phase} the order")

    def alpaca_accept_then_drop(self) -> None:
        self.alpaca.add_fault("drop_connection", phase="after", method="POST", path="/v2/orders")
        self.log.add("alpaca accept-then-drop")

    def market_closed(self, closed_s: float) -> None:
        self.alpaca.close_market()
        self.log.add("market closed")
        time.sleep(closed_s)
        self.alpaca.open_market()
        self.log.add("market open")

    def slack_rate_limited(self, times: int) -> None:
        self.slack.rate_limit("chat.postMessage", times=times, retry_after_s=1)
        self.log.add("slack 429", f"chat.postMessage ×{times}")

    def slack_error(self, times: int) -> None:
        self.slack.add_fault("http_error", status=500, method="chat.postMessage", times=times)
        self.log.add("slack 500", f"chat.postMessage ×{times}")

    def paper_guard_fails(self, live_s: float) -> None:
        """The account turns live for a moment: no order may leave while the check fails."""
        with self.locks.account:
            started = time.time()
            self.alpaca.configure(account_number="LA00FAULT01")
            self.log.add("paper guard: live account", "LA00FAULT01")
            time.sleep(live_s)
            self.alpaca.configure(account_number=None)
            self.log.guard_windows.append((started, time.time()))
            self.log.add("paper guard: paper account again")
            # A failed check disables Alpaca in that process until a restart: the operator restarts it.
            self.kill_worker("execution", 0.0, " (re-enables Alpaca after the guard failure)")

    def clear(self) -> None:
        self.alpaca.clear_faults()
        self.alpaca.open_market()
        self.slack.clear_faults()
