"""slack_ambiguous_dm: a DM that lands at Slack while its answer never comes back (held until the client
gives up, or the connection dropped after the post), so the notifier cannot tell whether it posted."""

from __future__ import annotations

import random
import time
import uuid

from tests.faults.kinds.context import Injection, KindOutcome, KindRun, Seen, begin, notice_payload
from workers.handlers.audit import NOTIFIED_KEY, WORKING_NOTIFIED_KEY
from workers.store.port import TradeStore

HIT_TIMEOUT_S = 180.0
DM_CHANNELS = "U*"  # a DM is posted to the trader's user ID


def inject_ambiguous_dm(run: KindRun, times: int, seed: int) -> None:
    injection = begin("slack_ambiguous_dm")
    # DMs only (posted to the trader's user ID): the approvers' channel and the alerts post too
    held = run.slack.ambiguous_post(times=times, channel=DM_CHANNELS)
    dropped = run.slack.add_fault(
        "drop_connection", method="chat.postMessage", phase="after", times=1, channel=DM_CHANNELS
    )
    run.log.add("slack_ambiguous_dm", f"{times} held unanswered, 1 dropped after posting")
    rng = random.Random(seed)
    deadline, submitted = time.monotonic() + HIT_TIMEOUT_S, 0
    while time.monotonic() < deadline:
        left = {f["id"]: f.get("remaining") for f in run.slack.faults()}
        if not left.get(held["id"]) and not left.get(dropped["id"]):
            break
        if submitted < times + 6:  # a few trades of its own, each one DM at least
            run.probes.submit(1, random.Random(rng.random()))
            submitted += 1
        time.sleep(5.0)
    else:
        injection.problems.append(f"the DM faults were not all met within {HIT_TIMEOUT_S}s")
    run.record(injection)


async def check_ambiguous_dm(seen: Seen, injections: list[Injection]) -> KindOutcome:
    """Each DM whose answer was lost: its notice posted exactly once, and recorded as told."""
    hit = [payload for m in seen.messages if m.get("answer_lost") and (payload := notice_payload(m))]
    outcome = KindOutcome.of("slack_ambiguous_dm", injections, len(hit))
    if injections and not hit:
        outcome.problems.append("no DM lost its answer")
    told = seen.notices()
    for trade_id, notice in hit:
        if told[(trade_id, notice)] != 1:
            outcome.problems.append(f"{trade_id}: its {notice} notice posted {told[(trade_id, notice)]}×")
        if not await _recorded(seen.store, uuid.UUID(trade_id), notice):
            outcome.problems.append(f"{trade_id}: its {notice} notice was never recorded as told")
    return outcome


async def _recorded(store: TradeStore, trade_id: uuid.UUID, notice: str) -> bool:
    """A held trade's notice has no audit item (it may have no record): posting it once is all it owes."""
    keys = {"outcome": [NOTIFIED_KEY], "working": [WORKING_NOTIFIED_KEY, NOTIFIED_KEY]}.get(notice, [])
    for key in keys:  # a working notice whose trade was told its outcome meanwhile is not recorded: stale
        if await store.get_audit(trade_id, key) is not None:
            return True
    return not keys
