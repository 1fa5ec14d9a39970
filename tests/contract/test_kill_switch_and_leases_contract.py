"""The KillSwitchAndLeases contract: a kill switch set with its journal entry; one holder per lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from messages.records import KillSwitch
from tests.contract.builders import NOW, journal_entry
from workers.store.port import KillSwitchAndLeases, LeaseClaim, TradeStore


async def test_kill_switch_is_off_until_set(store: KillSwitchAndLeases) -> None:
    assert await store.get_kill_switch() == KillSwitch(engaged=False)
    engaged = KillSwitch(engaged=True, reason="drill", changed_by="U999", changed_at=NOW)
    await store.set_kill_switch(engaged)
    assert await store.get_kill_switch() == engaged
    released = KillSwitch(engaged=False, reason="drill over", changed_by="U999", changed_at=NOW)
    await store.set_kill_switch(released)
    assert await store.get_kill_switch() == released


async def test_the_kill_switch_is_set_with_its_journal_entry(store: TradeStore) -> None:
    halted = KillSwitch(engaged=True, reason="drill", changed_by="OPS1", changed_at=NOW)
    event = journal_entry(NOW, reason="drill")
    await store.set_kill_switch(halted, event)
    assert await store.get_kill_switch() == halted
    assert await store.list_activity("ops", NOW, NOW + timedelta(seconds=1)) == [event]


async def test_a_lease_has_one_holder_until_it_runs_out(store: KillSwitchAndLeases) -> None:
    assert await store.claim_lease("notify#t1", now_ms=1_000, lease_ms=500) is True
    assert await store.claim_lease("notify#t1", now_ms=1_200, lease_ms=500) is False  # still held
    assert await store.claim_lease("notify#t2", now_ms=1_200, lease_ms=500) is True  # another name
    assert await store.claim_lease("notify#t1", now_ms=1_501, lease_ms=500) is True  # ran out: taken over
    claims = await asyncio.gather(
        *(store.claim_lease("notify#t3", now_ms=5_000, lease_ms=500) for _ in range(8))
    )
    assert claims.count(True) == 1


async def test_a_released_lease_can_be_claimed_at_once(store: KillSwitchAndLeases) -> None:
    assert await store.claim_lease("notify#t1", now_ms=1_000, lease_ms=500) is True
    assert await store.release_lease("notify#t1", claimed_at_ms=1_000, lease_ms=500) is True
    assert await store.claim_lease("notify#t1", now_ms=1_001, lease_ms=500) is True  # not after 1_500
    assert await store.release_lease("notify#t2", claimed_at_ms=1_000, lease_ms=500) is False  # never held


async def test_a_claim_says_whether_it_took_over_a_lease_that_ran_out(store: KillSwitchAndLeases) -> None:
    assert await store.claim_lease_over("notify#t1", now_ms=1_000, lease_ms=500) is LeaseClaim.TAKEN
    assert await store.claim_lease_over("notify#t1", now_ms=1_200, lease_ms=500) is LeaseClaim.HELD
    # the holder died without a word: the next claim knows it may finish someone else's work
    assert await store.claim_lease_over("notify#t1", now_ms=1_501, lease_ms=500) is LeaseClaim.TAKEN_OVER
    assert await store.release_lease("notify#t1", claimed_at_ms=1_501, lease_ms=500) is True
    # a released lease left nothing behind: the next claim is a fresh one
    assert await store.claim_lease_over("notify#t1", now_ms=1_600, lease_ms=500) is LeaseClaim.TAKEN


async def test_only_the_holder_releases_a_lease(store: KillSwitchAndLeases) -> None:
    assert await store.claim_lease("notify#t1", now_ms=1_000, lease_ms=500) is True
    assert await store.claim_lease("notify#t1", now_ms=1_501, lease_ms=500) is True  # ran out: taken over
    # The first holder, late with its failure, must not free the second holder's lease.
    assert await store.release_lease("notify#t1", claimed_at_ms=1_000, lease_ms=500) is False
    assert await store.claim_lease("notify#t1", now_ms=1_600, lease_ms=500) is False  # still held
    assert await store.release_lease("notify#t1", claimed_at_ms=1_501, lease_ms=500) is True
    assert await store.release_lease("notify#t1", claimed_at_ms=1_501, lease_ms=500) is False  # once
    assert await store.claim_lease("notify#t1", now_ms=1_600, lease_ms=500) is True
