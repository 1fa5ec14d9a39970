"""The kinds in one table: each one's planned parameters, its injection and its check."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

from tests.faults.kinds import KIND_NAMES, alpaca, approvals, ingress, outages, slack
from tests.faults.kinds.context import KindOutcome, KindRun, Seen

INJECTIONS: dict[str, Callable[..., None]] = {
    "alpaca_resend_504_429": functools.partial(alpaca.inject_resend, resend_status=429),
    "alpaca_resend_504_403": functools.partial(alpaca.inject_resend, resend_status=403),
    "alpaca_disabled_after_crash": alpaca.inject_disabled_after_crash,
    "alpaca_call_outlives_limit": alpaca.inject_call_outlives_limit,
    "slack_ambiguous_dm": slack.inject_ambiguous_dm,
    "dynamodb_outage_long": outages.inject_dynamodb_outage_long,
    "stale_replay": outages.inject_stale_replay,
    "poison_number": ingress.inject_poison_number,
    "rabbitmq_blocked": ingress.inject_rabbitmq_blocked,
    "rabbitmq_node_loss": outages.inject_rabbitmq_node_loss,
    "approval_clicked_twice": approvals.inject_clicked_twice,
    "approval_races_expiry": approvals.inject_races_expiry,
}
assert tuple(INJECTIONS) == KIND_NAMES


def plan_kinds(rng: random.Random, users: list[str], scale: int) -> list[tuple[str, dict[str, Any]]]:
    """Each kind once at the smallest scale; the short ones more often as N grows. The long ones (the
    crash's lease wait, the long store outage, the stale pause) once whatever N is."""
    often = 1 + scale // 5
    planned: list[tuple[str, dict[str, Any]]] = []
    for _ in range(often):
        for status in (429, 403):
            planned.append((f"alpaca_resend_504_{status}", {"times": rng.randint(1, 2), "seed": _seed(rng)}))
        planned.append(("alpaca_call_outlives_limit", {"times": rng.randint(1, 2), "seed": _seed(rng)}))
        planned.append(("slack_ambiguous_dm", {"times": rng.randint(1, 2), "seed": _seed(rng)}))
        traders = [users[rng.randrange(len(users))] for _ in range(3)]
        planned.append(("rabbitmq_blocked", {"blocked_s": rng.uniform(8.0, 15.0), "traders": traders}))
        planned.append(("rabbitmq_node_loss", {"down_s": rng.uniform(8.0, 20.0), "seed": _seed(rng)}))
        planned.append(("approval_clicked_twice", {"seed": _seed(rng)}))
    planned += [
        ("alpaca_disabled_after_crash", {"seed": _seed(rng)}),
        ("dynamodb_outage_long", {"beyond_s": rng.uniform(0.0, 10.0), "seed": _seed(rng)}),
        ("stale_replay", {"extra_s": rng.uniform(6.0, 9.0), "seed": _seed(rng)}),
        ("poison_number", {"user": users[rng.randrange(len(users))]}),
        ("approval_races_expiry", {"seed": _seed(rng)}),  # waits out a request's whole time to live
    ]
    return planned


def inject(run: KindRun, kind: str, params: dict[str, Any]) -> None:
    INJECTIONS[kind](run, **params)


async def check_kinds(seen: Seen, run: KindRun, replicas: dict[str, int]) -> list[KindOutcome]:
    """One outcome per kind, in KIND_NAMES' order, whether or not it was injected."""
    return [
        alpaca.check_resend(seen, "alpaca_resend_504_429", run.of("alpaca_resend_504_429")),
        alpaca.check_resend(seen, "alpaca_resend_504_403", run.of("alpaca_resend_504_403")),
        alpaca.check_disabled_after_crash(seen, run.of("alpaca_disabled_after_crash")),
        await alpaca.check_call_outlives_limit(seen, run.of("alpaca_call_outlives_limit")),
        await slack.check_ambiguous_dm(seen, run.of("slack_ambiguous_dm")),
        outages.check_dynamodb_outage_long(seen, run.of("dynamodb_outage_long")),
        outages.check_stale_replay(seen, run.of("stale_replay")),
        await ingress.check_poison_number(seen, run.of("poison_number")),
        ingress.check_rabbitmq_blocked(seen, run.of("rabbitmq_blocked")),
        outages.check_rabbitmq_node_loss(seen, run.of("rabbitmq_node_loss"), replicas),
        await approvals.check_clicked_twice(seen, run.of("approval_clicked_twice")),
        await approvals.check_races_expiry(seen, run.of("approval_races_expiry")),
    ]


def _seed(rng: random.Random) -> int:
    return rng.randrange(2**32)
