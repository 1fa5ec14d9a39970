"""Long outages: DynamoDB Local down a minute or more, the persistence stage down past the stale deadline
(its trades must never be executed late), and a RabbitMQ node lost from the cluster mid-run."""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

from tests.faults.cluster import RabbitCluster
from tests.faults.kinds.context import (
    FIRST_KINDS,
    RACE_SENT,
    Injection,
    KindOutcome,
    KindRun,
    Seen,
    begin,
    parse_time,
)
from tests.faults.rabbitmq_node import RabbitNodeUnavailable
from workers.bootstrap import reconcile_policy
from workers.settings import Settings

# The expiry race comes a request's time to live (APPROVAL_TTL_S) after its post, itself held back by the
# load's faults: the long outage waits for it this long at most.
RACE_WAIT_MAX_S = 120.0


def long_outage_s(settings: Settings) -> float:
    """The shortest outage that is long: 10 s past the longest a message's retries can take in all (each
    retry's backoff at its ceiling), so only the outage budget keeps its messages out of the dead letters."""
    low, high = settings.tradeflow_min_backoff_ms, settings.tradeflow_max_backoff_ms
    ceilings = (min(high, low * 2**retry) for retry in range(settings.tradeflow_max_retries))
    return sum(ceilings) / 1000 + 10.0


# -- dynamodb_outage_long ---------------------------------------------------------------------------------


def inject_dynamodb_outage_long(run: KindRun, beyond_s: float, seed: int) -> None:
    """DynamoDB Local stopped `beyond_s` longer than a long outage (`long_outage_s`) while trades come in;
    they wait within the outage budget, and the traders of those held before they were recorded are told
    they are delayed."""
    down_s = long_outage_s(run.settings) + beyond_s
    met = run.first.wait(FIRST_KINDS | {RACE_SENT}, timeout_s=RACE_WAIT_MAX_S)  # see FirstKinds
    injection = begin("dynamodb_outage_long")
    injection.facts["first kinds done"] = met
    rng = random.Random(seed)
    with run.locks.store:
        run.injector.stop_dynamodb()
        stopped = time.monotonic()
        run.log.add("dynamodb_outage_long", f"DynamoDB Local stopped for {down_s:.0f}s")
        time.sleep(2.0)
        injection.trade_ids = run.probes.submit(3, rng)
        injection.facts["held from"] = time.time()
        time.sleep(max(0.0, stopped + down_s - time.monotonic()))
        run.injector.start_dynamodb()
        run.log.add("dynamodb local restarted", "after the long outage")
    run.record(injection)


def check_dynamodb_outage_long(seen: Seen, injections: list[Injection]) -> KindOutcome:
    """Trades submitted during the outage: none lost, each told its outcome (or not executed), and no notice
    twice. A "delayed" notice is owed only while a trade is held unrecorded: one recorded by the time the
    notifier looks gets none."""
    trade_ids = [t for i in injections for t in i.trade_ids]
    outcome = KindOutcome.of("dynamodb_outage_long", injections, len(trade_ids))
    told = seen.notices()
    delayed = 0
    for trade_id in trade_ids:
        notices = {notice: n for (t, notice), n in told.items() if t == str(trade_id)}
        delayed += notices.get("delayed", 0)
        record = seen.trades.get(trade_id)
        if record is None or not (record.is_terminal or record.error_message or record.order_status):
            outcome.problems.append(
                f"{trade_id}: {record.status if record else 'no record'} after the outage"
            )
        if not ({"outcome", "not_executed"} & set(notices)):
            outcome.problems.append(f"{trade_id}: never told its outcome ({notices})")
        if any(n > 1 for n in notices.values()):
            outcome.problems.append(f"{trade_id}: a notice told twice ({notices})")
    for injection in injections:
        outcome.notes.append(f"down {injection.ended - injection.started:.0f}s")
    outcome.notes.append(f"{delayed} told delayed")
    return outcome


# -- stale_replay -----------------------------------------------------------------------------------------


def inject_stale_replay(run: KindRun, extra_s: float, seed: int) -> None:
    """The persistence stage down for TRADEFLOW_STUCK_AFTER_S + `extra_s`: trades validated at its start
    are recorded past their deadline, and must fail NOT_EXECUTED_IN_TIME, never be placed late."""
    met = run.first.wait()  # see FirstKinds
    injection = begin("stale_replay")
    injection.facts["first kinds done"] = met
    stuck_s = run.settings.tradeflow_stuck_after_s
    pause = stuck_s + extra_s
    rng = random.Random(seed)

    def submit_soon() -> None:
        time.sleep(1.0)
        injection.trade_ids = run.probes.submit(3, rng)
        injection.facts["submitted by"] = time.time()

    run.log.add("stale_replay", f"persistence down {pause:.0f}s, past the {stuck_s:.0f}s deadline")
    submitting = threading.Thread(target=submit_soon, daemon=True)
    submitting.start()  # while the stage is down: kill_worker holds it down for `pause`
    run.injector.kill_worker("persistence", pause, f" (down {pause:.0f}s: past the {stuck_s:.0f}s deadline)")
    submitting.join()
    injection.facts["restarted"] = time.time()
    if injection.facts["restarted"] - injection.facts.get("submitted by", 0) < stuck_s:
        injection.problems.append("the trades were submitted too late to be stale when persistence came back")
    run.record(injection)


def check_stale_replay(seen: Seen, injections: list[Injection]) -> KindOutcome:
    """The paused trades failed NOT_EXECUTED_IN_TIME with no order and were told; across the run, no order
    and no simulated fill came later than the deadline allows after a trade's submission."""
    trade_ids = [t for i in injections for t in i.trade_ids]
    outcome = KindOutcome.of("stale_replay", injections, len(trade_ids))
    told = seen.notices()
    for trade_id in trade_ids:
        record = seen.trades.get(trade_id)
        # rejected at validation (a closed market, say) is never executed either: as good here
        if record is None or not (record.error_code == "NOT_EXECUTED_IN_TIME" or record.status == "rejected"):
            ended = f"{record.status} {record.error_code}" if record else "no record"
            outcome.problems.append(f"{trade_id}: {ended}, not failed NOT_EXECUTED_IN_TIME")
        if seen.orders_of(trade_id):
            outcome.problems.append(f"{trade_id}: placed at Alpaca after its deadline")
        if told[(str(trade_id), "outcome")] != 1:
            outcome.problems.append(f"{trade_id}: its failure told {told[(str(trade_id), 'outcome')]}×")
    settings = seen.settings
    latest = settings.tradeflow_stuck_after_s + reconcile_policy(settings).attempt_limit.total_seconds()
    late = 0
    for record in seen.trades.values():
        if record is None:
            continue
        submitted = record.timestamp.timestamp()
        placed = [parse_time(o["created_at"]) for o in seen.orders_of(record.trade_id)]
        if record.execution_method == "simulation" and record.execution_timestamp is not None:
            placed.append(record.execution_timestamp.timestamp())
        for at in placed:
            if at - submitted > latest:
                late += 1
                outcome.problems.append(f"{record.trade_id}: executed {at - submitted:.0f}s after submission")
    outcome.notes.append(
        f"no execution later than {latest:.0f}s after submission" if not late else f"{late} late"
    )
    return outcome


# -- rabbitmq_node_loss -----------------------------------------------------------------------------------


def inject_rabbitmq_node_loss(run: KindRun, down_s: float, seed: int) -> None:
    """Kill -9 the cluster node most of the campaign's processes are connected to, keep it down while trades
    come in and `tradeflow health` and `dlq list` run on the others, then boot it again."""
    # The lost node holds back every consumer it served until they reconnect, so it waits for the kinds that
    # need the chain whole (FirstKinds) and falls beside the other long faults.
    first_done = run.first.wait()
    injection = begin("rabbitmq_node_loss")
    injection.facts["first kinds done"] = first_done
    cluster = run.rabbitmq
    if not isinstance(cluster, RabbitCluster):
        injection.problems.append("the campaign runs on one RabbitMQ node: no cluster to lose a node of")
        run.record(injection)
        return
    rng = random.Random(seed)
    with run.locks.rabbitmq:
        node = cluster.busiest()
        held = cluster.connections_on(node)
        node.kill()
        down_at = time.monotonic()
        run.log.add("rabbitmq_node_loss", f"kill -9 {node.name} ({held} connections on it)")
        injection.facts.update(node=node.name, connections=held)
        try:
            injection.trade_ids = run.probes.submit(3, rng)
            for command in (["health", "--json"], ["dlq", "list", "--json"]):
                injection.problems += _runs_on_the_others(run, command)
            injection.facts["running while down"] = sorted(cluster.running_nodes())
            time.sleep(max(0.0, down_at + down_s - time.monotonic()))
        finally:
            try:
                node.boot()
                run.log.add("rabbitmq node back", node.name)
            except RabbitNodeUnavailable as exc:  # said as the kind's problem; revive() boots it at the end
                injection.problems.append(str(exc)[:300])
        running = cluster.running_nodes()
        if running != {n.name for n in cluster.nodes}:
            injection.problems.append(f"after the node came back the cluster runs {sorted(running)}")
    run.record(injection)


def check_rabbitmq_node_loss(
    seen: Seen, injections: list[Injection], replicas: dict[str, int]
) -> KindOutcome:
    """The lost node's trades settled and told (the campaign's verdicts cover them); every campaign queue
    was a quorum queue with a replica on each of the three nodes."""
    trade_ids = [t for i in injections for t in i.trade_ids]
    outcome = KindOutcome.of("rabbitmq_node_loss", injections, len(trade_ids))
    for trade_id in trade_ids:
        record = seen.trades.get(trade_id)
        if record is None or not seen.told_how_it_ended(trade_id):
            outcome.problems.append(f"{trade_id}: {record.status if record else 'no record'}, not told once")
    if injections:
        short = {queue: n for queue, n in replicas.items() if n < 3}
        if not replicas or short:
            outcome.problems.append(f"queues without a replica on every node: {short or 'none listed'}")
        outcome.notes.append(f"{len(replicas)} quorum queues on 3 nodes")
        outcome.notes += [
            f"lost {i.facts.get('node')} with {i.facts.get('connections')} connections" for i in injections
        ]
    return outcome


def _runs_on_the_others(run: KindRun, command: list[str]) -> list[str]:
    """An operator command while a node is down: it must reach the others (RABBITMQ_URL lists them all)."""
    done = run.stack.cli(*command)
    if command[0] == "health":  # it exits 1 for a queue without consumers: a restarting worker, say
        try:
            checks = json.loads(done.stdout).get("checks", [])
        except ValueError:
            return [f"tradeflow health while a node was down: {done.stderr.strip()[:120]}"]
        rabbitmq: dict[str, Any] = next((c for c in checks if c.get("name") == "rabbitmq"), {})
        return [] if rabbitmq.get("ok") else [f"tradeflow health while a node was down: {rabbitmq}"]
    return [] if done.returncode == 0 else [f"tradeflow {' '.join(command)}: {done.stderr.strip()[:120]}"]
