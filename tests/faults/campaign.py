"""The fault campaign: N trades through the real stack while faults are injected at random, then every
trade, order, notification and position is checked. `make faults` runs N = 1,000; `make test` runs the
smallest N that still meets every kind of fault (tests/faults/test_campaign.py says which).

    python -m tests.faults.campaign --trades 1000 [--seed S] [--rate 5]

The seed is printed first: the same seed gives the same trades and the same faults in the same order.
RabbitMQ is a node of the campaign's own (tests/faults/rabbitmq_node.py), started beside the machine's and
stopped at the end, so restarting it disturbs nothing else that runs meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stack import ROOT, LoopbackStack
from tests.faults.checks import Figures, check, is_settled, read_notified, read_trades
from tests.faults.injectors import ALPACA_TIMEOUT_S, Fault, FaultLog, Injector, plan_faults
from tests.faults.load import Submitted, trade_load
from tests.faults.rabbitmq_node import RabbitNode
from workers.bootstrap import open_store
from workers.chain.routing import STAGE_NAMES
from workers.settings import load_settings
from workers.store.port import TradeStore

DUPLICATING_APP = "tests.e2e.duplicating_app:rabbitmq"  # every message it publishes is delivered twice
OPERATOR = "UFAULTOPS"


@dataclass
class CampaignResult:
    seed: int
    submitted: Submitted
    faults: FaultLog
    figures: Figures
    dead_letters: dict[str, Any]
    seconds: float
    phases: dict[str, float]

    def lines(self) -> list[str]:
        return [
            f"seed: {self.seed}",
            f"submitted: {len(self.submitted.accepted)} accepted, {len(self.submitted.refused)} refused at "
            f"the ingress (the trader saw an error), {self.submitted.duplicates_sent} sent twice",
            f"faults injected: {self.faults.counts()}",
            f"dead letters: {self.dead_letters['listed']} ({dict(self.dead_letters['reasons'])})",
            *self.figures.lines(),
            f"took {self.seconds:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in self.phases.items())})",
        ]


def run_campaign(
    trades: int, seed: int, out_dir: Path, rate_per_s: float = 4.0, fill_timeout_s: float | None = None
) -> CampaignResult:
    """`fill_timeout_s`: the workers' TRADEFLOW_FILL_TIMEOUT_S (None: tradeflow's default, 30 s). A worker
    killed during an execution holds the trade's order lease for the fill wait plus a minute; the trade
    settles only once the lease runs out, so a shorter fill wait settles the campaign sooner."""
    started = time.monotonic()
    rng = random.Random(seed)
    users = [f"UF{n:03d}" for n in range(30)]
    env = {
        "TRADEFLOW_ALPACA_TIMEOUT_S": str(ALPACA_TIMEOUT_S),
        "TRADEFLOW_MAX_RETRIES": "10",
        "TRADEFLOW_MAX_BACKOFF_MS": "5000",
        "TRADEFLOW_OPERATOR": OPERATOR,
        "TRADEFLOW_ADMINS": OPERATOR,
    }
    if fill_timeout_s is not None:
        env["TRADEFLOW_FILL_TIMEOUT_S"] = str(fill_timeout_s)
    rabbitmq = RabbitNode()
    env["RABBITMQ_URL"] = rabbitmq.url
    # The node boots while the rest of the stack starts (nothing but the workers needs it at once).
    booting = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rabbitmq-node")
    booted = booting.submit(rabbitmq.start)
    booting.shutdown(wait=False)
    stack = LoopbackStack(out_dir, users, alpaca=True, db_path=out_dir / "dynamodb", extra_env=env)
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
        injector = Injector(stack, log, rabbitmq)
        # The seeded admin makes itself an operator, to replay dead letters and reconcile as one.
        _cli(stack, "users", "add", OPERATOR, "--role", "operator", "--as", OPERATOR)
        stack.start_stage_workers({"validation": DUPLICATING_APP, "execution": DUPLICATING_APP})
        phases["start"] = time.monotonic() - started
        plan = plan_faults(random.Random(rng.random()), trades, trades / rate_per_s)
        faults = threading.Thread(target=_inject, args=(injector, plan, stopping), daemon=True)
        faults.start()
        load_rng = random.Random(rng.random())
        submitted = asyncio.run(
            trade_load(stack.ingress_url, settings.slack_signing_secret, users, trades, rate_per_s, load_rng)
        )
        phases["load"] = time.monotonic() - started - sum(phases.values())
        faults.join()
        phases["faults after the load"] = time.monotonic() - started - sum(phases.values())
        injector.clear()
        _restart_missing(stack, rabbitmq)
        trade_ids = asyncio.run(_known_trades(stack, submitted))
        _settle(stack, trade_ids, timeout_s=240, stall_s=30)
        dead_letters = _replay_dead_letters(stack)
        _settle(stack, trade_ids, timeout_s=240, stall_s=90)
        phases["settle and replay"] = time.monotonic() - started - sum(phases.values())
        figures = asyncio.run(_check(stack, trade_ids, log))
        figures.dead_letters_replayed = dead_letters["replayed"]
        figures.unexplained_dead_letters = dead_letters["unexplained"]
    finally:
        stopping.set()
        try:
            stack.close()
        finally:
            if injector is not None:
                injector.close()
            rabbitmq.close()
    return CampaignResult(seed, submitted, log, figures, dead_letters, time.monotonic() - started, phases)


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


def _restart_missing(stack: LoopbackStack, rabbitmq: RabbitNode) -> None:
    rabbitmq.start_app(check=False)
    if stack.dynamo is None:
        stack.start_dynamodb()
    for stage in STAGE_NAMES:
        process = stack.workers.get(stage)
        if process is None or process.poll() is not None:
            stack.start_stage(stage)


async def _known_trades(stack: LoopbackStack, submitted: Submitted) -> set[uuid.UUID]:
    """The accepted trades, and any refused one that exists all the same (it must complete too)."""
    store = await open_store(load_settings(stack.settings_env()))
    try:
        refused = await read_trades(store, set(submitted.refused))
    finally:
        await store.close()
    return submitted.accepted | {t for t, record in refused.items() if record is not None}


def _settle(stack: LoopbackStack, trade_ids: set[uuid.UUID], timeout_s: float, stall_s: float) -> int:
    """Wait until every trade is settled and told, or nothing moved for `stall_s`; returns how many are not.

    A reconciliation is asked for now and then, as an operator would.
    """
    return asyncio.run(_settle_on_one_store(stack, trade_ids, timeout_s, stall_s))


async def _settle_on_one_store(
    stack: LoopbackStack, trade_ids: set[uuid.UUID], timeout_s: float, stall_s: float
) -> int:
    store = await open_store(load_settings(stack.settings_env()))
    try:
        deadline = time.monotonic() + timeout_s
        last_reconcile = last_progress = time.monotonic()
        remaining = len(trade_ids) + 1
        while True:
            looked_at = time.monotonic()
            unsettled = len(await _unsettled(store, trade_ids))
            now = time.monotonic()
            if unsettled < remaining:
                remaining, last_progress = unsettled, now
            if not unsettled or now > deadline or now - last_progress > stall_s:
                return unsettled
            if now - last_reconcile > 20:
                await asyncio.to_thread(_cli, stack, "reconcile", "--json")
                last_reconcile = now
            # Look again soon, but never spend more than half the time looking (N = 1,000 reads take a while).
            await asyncio.sleep(max(0.5, now - looked_at))
    finally:
        await store.close()


async def _unsettled(store: TradeStore, trade_ids: set[uuid.UUID]) -> list[uuid.UUID]:
    records = await read_trades(store, trade_ids)
    notified = await read_notified(store, {t for t, r in records.items() if r is not None and r.is_terminal})
    return [
        t
        for t, record in records.items()
        if not is_settled(record) or (record is not None and record.is_terminal and t not in notified)
    ]


def _replay_dead_letters(stack: LoopbackStack) -> dict[str, Any]:
    """Every dead letter must say why it died; then each is replayed, as an operator would."""
    listed = json.loads(_cli(stack, "dlq", "list", "--json"))
    unexplained, replayed, reasons = [], 0, Counter[str]()
    for queue in listed["queues"]:
        for letter in queue["messages"]:
            reasons[f"{queue['stage']}: {(letter.get('reason') or '')[:100]}"] += 1
            if not letter.get("reason"):
                unexplained.append(f"{queue['queue']} {letter['message_id']}")
        if queue["dead_letters"]:
            doc = json.loads(_cli(stack, "dlq", "replay", queue["stage"], "--all", "--json"))
            replayed += len(doc.get("replayed", []))
    return {"listed": listed["total"], "replayed": replayed, "unexplained": unexplained, "reasons": reasons}


async def _check(stack: LoopbackStack, trade_ids: set[uuid.UUID], log: FaultLog) -> Figures:
    from emulators.alpaca.admin_client import AdminClient as AlpacaAdmin
    from emulators.slack.admin_client import AdminClient as SlackAdmin

    store = await open_store(load_settings(stack.settings_env()))
    try:
        trades = await read_trades(store, trade_ids)
        return await check(
            store, trades, AlpacaAdmin(stack.alpaca_origin), SlackAdmin(stack.slack_origin), log.guard_windows
        )
    finally:
        await store.close()


def _cli(stack: LoopbackStack, *args: str) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "workers.console.main", *args],
            env={**stack.env, "TRADEFLOW_OPERATOR": OPERATOR},
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"tradeflow {' '.join(args)} took over 120 s; stderr: {exc.stderr!r}") from exc
    if done.returncode != 0:
        raise RuntimeError(f"tradeflow {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.campaign", description=__doc__)
    parser.add_argument("--trades", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: a new seed)")
    parser.add_argument("--rate", type=float, default=5.0, help="trades per second (default 5)")
    parser.add_argument("--out", type=Path, default=ROOT / ".data" / "faults")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"fault campaign: {args.trades} trades, seed {seed} (replay: --seed {seed})", flush=True)
    result = run_campaign(args.trades, seed, args.out / str(seed), args.rate)
    print("\n".join(result.lines()))
    for entry in result.faults.entries:
        print(f"  +{entry[0] - result.faults.started:7.1f}s  {entry[1]}  {entry[2]}")
    problems = result.figures.problems()
    for name, values in problems.items():
        print(f"✗ {name}: {len(values)}")
        for value in values[:20]:
            print(f"    {value}")
    print("✓ nothing lost, nothing done twice" if not problems else "✗ the campaign found problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
