"""The fault campaign: N trades through the real stack while faults are injected at random, then every
trade, order, notification and position is checked. `make faults` runs N = 1,000; `make test` about 100.

    python -m tests.faults.campaign --trades 1000 [--seed S] [--rate 5]

The seed is printed first: the same seed gives the same trades and the same faults in the same order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stack import ROOT, LoopbackStack
from tests.faults.checks import Figures, check, is_settled, read_notified, read_trades
from tests.faults.injectors import ALPACA_TIMEOUT_S, Fault, FaultLog, Injector, plan_faults
from tests.faults.load import Submitted, trade_load
from workers.bootstrap import open_store
from workers.chain.routing import STAGE_NAMES
from workers.settings import load_settings

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


def run_campaign(trades: int, seed: int, out_dir: Path, rate_per_s: float = 4.0) -> CampaignResult:
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
    stack = LoopbackStack(out_dir, users, alpaca=True, db_path=out_dir / "dynamodb", extra_env=env).start()
    log = FaultLog()
    settings = load_settings(stack.settings_env())
    stopping = threading.Event()
    phases: dict[str, float] = {}
    try:
        # The seeded admin makes itself an operator, to replay dead letters and reconcile as one.
        _cli(stack, "users", "add", OPERATOR, "--role", "operator", "--as", OPERATOR)
        stack.start_stage_workers({"validation": DUPLICATING_APP, "execution": DUPLICATING_APP})
        phases["start"] = time.monotonic() - started
        injector = Injector(stack, log)
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
        _restart_missing(stack)
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
        stack.close()
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


def _restart_missing(stack: LoopbackStack) -> None:
    subprocess.run(["rabbitmqctl", "-q", "start_app"], capture_output=True, check=False)
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
    deadline = time.monotonic() + timeout_s
    last_reconcile = last_progress = time.monotonic()
    remaining = len(trade_ids) + 1
    while True:
        unsettled = len(asyncio.run(_unsettled(stack, trade_ids)))
        now = time.monotonic()
        if unsettled < remaining:
            remaining, last_progress = unsettled, now
        if not unsettled or now > deadline or now - last_progress > stall_s:
            return unsettled
        if now - last_reconcile > 20:
            _cli(stack, "reconcile", "--json")
            last_reconcile = now
        time.sleep(2)


async def _unsettled(stack: LoopbackStack, trade_ids: set[uuid.UUID]) -> list[uuid.UUID]:
    store = await open_store(load_settings(stack.settings_env()))
    try:
        records = await read_trades(store, trade_ids)
        notified = await read_notified(
            store, {t for t, r in records.items() if r is not None and r.is_terminal}
        )
    finally:
        await store.close()
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
