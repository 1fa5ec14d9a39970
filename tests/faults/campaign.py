"""The fault campaign: N trades through the real stack while faults are injected at random, then every
trade, order, notification and position is checked. `make faults` runs N = 1,000; `make test` runs the
smallest N that still meets every kind of fault (tests/faults/test_campaign.py says which).

    python -m tests.faults.campaign --trades 1000 [--seed S] [--rate 1]

The seed is printed first: the same seed gives the same trades and the same faults in the same order.
RabbitMQ is a cluster of the campaign's own, three nodes (tests/faults/cluster.py) started beside the
machine's node and stopped at the end, so restarting or losing one disturbs nothing else that runs
meanwhile; every process is given all three URLs. Beside the faults injectors.py knows, each kind of
tests/faults/kinds is injected and checked, and the summary prints one line per kind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stack import ROOT, Launcher, LoopbackStack
from tests.faults.checks import Figures, check, read_trades
from tests.faults.cluster import RabbitCluster
from tests.faults.injectors import ALPACA_TIMEOUT_S, Fault, FaultLog, Injector, plan_faults
from tests.faults.kinds.context import KindOutcome, KindRun, Seen
from tests.faults.kinds.registry import check_kinds
from tests.faults.load import Submitted, trade_load
from tests.faults.settling import OPERATOR, known_trades, operator_cli, replay_dead_letters, settle
from workers.bootstrap import open_store
from workers.chain.routing import QUEUE_NAMES
from workers.settings import load_settings

DUPLICATING_APP = "tests.e2e.duplicating_app:rabbitmq"  # every message it publishes is delivered twice
# The workers' TRADEFLOW_STUCK_AFTER_S: stale_replay holds persistence down past it. It is every trade's
# deadline too: one that waits longer fails NOT_EXECUTED_IN_TIME (told), so it stays well above the waits
# the other faults cause (a 429 pauses every Alpaca request until the limit's reset, up to a minute).
STUCK_AFTER_S = 120.0
# How long a trade above the approval threshold waits (tests/faults/kinds/approvals.py): long enough for its
# request to be posted through the load's faults and clicked (a RabbitMQ restart held the post back 30 s);
# the long store outage waits for the expiry race, so no longer than that.
APPROVAL_TTL_S = 45.0
SWEEP_INTERVAL_S = 10.0


@dataclass
class CampaignResult:
    seed: int
    submitted: Submitted
    faults: FaultLog
    figures: Figures
    dead_letters: dict[str, Any]
    seconds: float
    phases: dict[str, float]
    kinds: list[KindOutcome]

    def problems(self) -> dict[str, list[str]]:
        """The verdicts that failed, and each kind that was never injected or whose check failed."""
        broken = {k.kind: k.problems or ["never injected"] for k in self.kinds if not k.ok}
        return {**self.figures.problems(), **broken}

    def lines(self) -> list[str]:
        return [
            f"seed: {self.seed}",
            f"submitted: {len(self.submitted.accepted)} accepted, {len(self.submitted.refused)} refused at "
            f"the ingress (the trader saw an error), {self.submitted.duplicates_sent} sent twice",
            f"faults injected: {self.faults.counts()}",
            f"dead letters: {self.dead_letters['listed']} ({dict(self.dead_letters['reasons'])})",
            *self.figures.lines(),
            *(outcome.line() for outcome in self.kinds),
            f"took {self.seconds:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in self.phases.items())})",
        ]

    def timeline(self) -> list[str]:
        """Every fault logged, at its second after the load began: which one ended the run's longest wait."""
        return [
            f"  +{at - self.faults.started:7.1f}s  {what}  {detail}"
            for at, what, detail in self.faults.entries
        ]


def run_campaign(
    trades: int,
    seed: int,
    out_dir: Path,
    rate_per_s: float = 4.0,
    fill_timeout_s: float | None = None,
    stuck_after_s: float = STUCK_AFTER_S,
    attempt_margin_s: float | None = None,
    launcher: Launcher | None = None,
) -> CampaignResult:
    """`launcher`: what forks the workers and operator commands (None: a new interpreter each).
    `fill_timeout_s`: the workers' TRADEFLOW_FILL_TIMEOUT_S (None: tradeflow's default, 30 s). A worker
    killed during an execution holds the trade's order lease for the fill wait plus a minute; the trade
    settles only once the lease runs out, so a shorter fill wait settles the campaign sooner.
    `stuck_after_s`: the workers' TRADEFLOW_STUCK_AFTER_S (see STUCK_AFTER_S). `attempt_margin_s`: their
    TRADEFLOW_ATTEMPT_MARGIN_S (None: tradeflow's default, 60 s), the rest of that lease."""
    started = time.monotonic()
    rng = random.Random(seed)
    users = [f"UF{n:03d}" for n in range(30)]
    env = {
        "TRADEFLOW_ALPACA_TIMEOUT_S": str(ALPACA_TIMEOUT_S),
        "TRADEFLOW_MAX_RETRIES": "10",
        "TRADEFLOW_MAX_BACKOFF_MS": "5000",
        "TRADEFLOW_OPERATOR": OPERATOR,
        "TRADEFLOW_ADMINS": OPERATOR,
        "TRADEFLOW_STUCK_AFTER_S": str(stuck_after_s),
        "TRADEFLOW_APPROVAL_TTL_S": str(APPROVAL_TTL_S),
        # the sweeper expires the requests nobody decides, and settles what the stream missed, within the run
        "TRADEFLOW_SWEEP_INTERVAL_S": str(SWEEP_INTERVAL_S),
    }
    if fill_timeout_s is not None:
        env["TRADEFLOW_FILL_TIMEOUT_S"] = str(fill_timeout_s)
    if attempt_margin_s is not None:
        env["TRADEFLOW_ATTEMPT_MARGIN_S"] = str(attempt_margin_s)
    rabbitmq = RabbitCluster()
    env["RABBITMQ_URL"] = rabbitmq.url  # all three nodes: each process uses the first that answers
    # The cluster forms while the rest of the stack starts (nothing but the workers needs it at once).
    booting = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rabbitmq-node")
    booted = booting.submit(rabbitmq.start)
    booting.shutdown(wait=False)
    stack = LoopbackStack(
        out_dir, users, alpaca=True, db_path=out_dir / "dynamodb", extra_env=env, launcher=launcher
    )
    try:
        stack.start()
    except BaseException:
        with contextlib.suppress(Exception):
            stack.close()  # whatever of it had started
        with contextlib.suppress(Exception):
            booted.result()
        rabbitmq.close()
        raise
    log = FaultLog()
    settings = load_settings(stack.settings_env())
    stopping = threading.Event()
    phases: dict[str, float] = {}
    injector: Injector | None = None
    try:
        booted.result()
        kinds = KindRun(stack, log, rabbitmq, users, settings)
        injector = Injector(stack, log, rabbitmq, kinds)
        # The seeded admin makes itself an operator, to replay dead letters and reconcile as one.
        operator_cli(stack, "users", "add", OPERATOR, "--role", "operator", "--as", OPERATOR)
        stack.start_stage_workers({"validation": DUPLICATING_APP, "execution": DUPLICATING_APP})
        replicas = rabbitmq.queue_members(stack.prefix)  # declared by the workers, after the cluster formed
        phases["start"] = time.monotonic() - started
        plan = plan_faults(random.Random(rng.random()), trades, trades / rate_per_s, tuple(users))
        kinds.first.expect(fault.kind for fault in plan)
        faults = threading.Thread(target=_inject, args=(injector, plan, stopping), daemon=True)
        faults.start()
        load_rng = random.Random(rng.random())
        submitted = asyncio.run(
            trade_load(stack.ingress_url, settings.slack_signing_secret, users, trades, rate_per_s, load_rng)
        )
        phases["load"] = time.monotonic() - started - sum(phases.values())
        faults.join()
        submitted.accepted |= kinds.probes.accepted  # the kinds' own trades are checked like the load's
        refused = kinds.probes.refused.items()
        submitted.refused.update({t: a for t, a in refused if t not in submitted.accepted})
        phases["faults after the load"] = time.monotonic() - started - sum(phases.values())
        injector.clear()
        _restart_missing(stack, rabbitmq, log)
        trade_ids = asyncio.run(known_trades(stack, submitted))
        # a stale trade's verdict waits its deadline and an attempt's limit (the fill wait and a minute)
        settle(stack, trade_ids, timeout_s=300, stall_s=60)
        dead_letters = replay_dead_letters(stack)
        settle(stack, trade_ids, timeout_s=240, stall_s=90)
        phases["settle and replay"] = time.monotonic() - started - sum(phases.values())
        figures, outcomes = asyncio.run(_check(stack, trade_ids, log, kinds, replicas, dead_letters))
        figures.dead_letters_replayed = dead_letters["replayed"]
        figures.unexplained_dead_letters = dead_letters["unexplained"]
        phases["check"] = time.monotonic() - started - sum(phases.values())
    finally:
        stopping.set()
        try:
            stack.close()
        finally:
            if injector is not None:
                injector.close()
            rabbitmq.close()
    phases["stop"] = time.monotonic() - started - sum(phases.values())
    return CampaignResult(
        seed, submitted, log, figures, dead_letters, time.monotonic() - started, phases, outcomes
    )


def _inject(injector: Injector, plan: list[Fault], stopping: threading.Event) -> None:
    """Each fault at its time, in its own thread, so faults overlap the load and each other."""
    started = time.monotonic()

    def one(fault: Fault) -> None:
        if stopping.wait(max(0.0, started + fault.at_s - time.monotonic())):
            return
        try:
            injector.inject(fault)
        except Exception as exc:  # the campaign goes on; the log says what could not be injected
            injector.log.add("injector error", f"{fault.kind}: {exc}")

    threads = [threading.Thread(target=one, args=(fault,), daemon=True) for fault in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _restart_missing(stack: LoopbackStack, rabbitmq: RabbitCluster, log: FaultLog) -> None:
    """Whatever a fault left down comes back; a worker that died by itself is named in the fault log."""
    rabbitmq.revive()
    if stack.dynamo is None:
        stack.start_dynamodb()
    for stage in QUEUE_NAMES:
        process = stack.workers.get(stage)
        if process is None or process.poll() is not None:
            exit_code = None if process is None else process.returncode
            log.add("worker found dead after the faults", f"{stage} (exit code {exit_code})")
            stack.start_stage(stage)


async def _check(
    stack: LoopbackStack,
    trade_ids: set[uuid.UUID],
    log: FaultLog,
    kinds: KindRun,
    replicas: dict[str, int],
    dead_letters: dict[str, Any],
) -> tuple[Figures, list[KindOutcome]]:
    settings = load_settings(stack.settings_env())
    store = await open_store(settings)
    try:
        trades = await read_trades(store, trade_ids)
        figures = await check(store, trades, kinds.alpaca, kinds.slack, log.guard_windows)
        requests = kinds.alpaca.requests()["requests"]
        seen = Seen(
            store=store,
            settings=settings,
            trades=trades,
            orders=kinds.alpaca.orders(),
            order_requests=[r for r in requests if r["method"] == "POST" and r["route"] == "/v2/orders"],
            messages=kinds.slack.messages(),
            dead_letter_trades=set(dead_letters["trade_ids"]),
        )
        return figures, await check_kinds(seen, kinds, replicas)
    finally:
        await store.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.campaign", description=__doc__)
    parser.add_argument("--trades", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: a new seed)")
    # One a second: the run measures faults, not capacity. Above the one Alpaca account's 200 a minute it
    # measured the rate limit's queue (make bench's burst does); at 3 a second two cores, beside a 3-node
    # RabbitMQ cluster and with every validation and execution message doubled, recorded trades minutes
    # late, and every trade past the deadline fails as late (never placed), leaving the kinds no orders.
    parser.add_argument("--rate", type=float, default=1.0, help="trades per second (default 1)")
    parser.add_argument("--out", type=Path, default=ROOT / ".data" / "faults")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"fault campaign: {args.trades} trades, seed {seed} (replay: --seed {seed})", flush=True)
    result = run_campaign(args.trades, seed, args.out / str(seed), args.rate)
    print("\n".join(result.lines() + result.timeline()))
    problems = result.problems()
    for name, values in problems.items():
        print(f"✗ {name}: {len(values)}")
        for value in values[:20]:
            print(f"    {value}")
    print("✓ nothing lost, nothing done twice" if not problems else "✗ the campaign found problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
