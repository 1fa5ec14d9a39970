"""Work after Slack's answer runs on its own, a failure stays inside it, and stopping waits for it."""

from __future__ import annotations

import asyncio

from workers.slack.after_answer import AfterAnswer


async def test_started_work_runs_after_the_caller_returned_and_drain_waits_for_it() -> None:
    after, done = AfterAnswer(), asyncio.Event()

    async def journal() -> None:
        await asyncio.sleep(0.05)
        done.set()

    after.start(journal(), "journal")
    assert after.running == 1 and not done.is_set()
    await after.drain()
    assert done.is_set() and after.running == 0


async def test_a_failure_ends_only_its_own_work() -> None:
    after, done = AfterAnswer(), asyncio.Event()

    async def fails() -> None:
        raise RuntimeError("DynamoDB down")

    async def journal() -> None:
        done.set()

    after.start(fails(), "failing")
    after.start(journal(), "journal")
    await after.drain()
    assert done.is_set() and after.running == 0


async def test_work_outlasting_the_drain_is_cancelled() -> None:
    after = AfterAnswer()
    after.start(asyncio.sleep(60), "slow")
    await after.drain(timeout_s=0.05)
    assert after.running == 0


async def test_work_past_the_bound_is_dropped_not_queued() -> None:
    after, ran = AfterAnswer(max_running=3), []

    async def journal(n: int) -> None:
        await asyncio.sleep(0.01)
        ran.append(n)

    started = [after.start(journal(n), f"journal {n}") for n in range(5)]
    assert started == [True, True, True, False, False] and after.running == 3 and after.dropped == 2
    await after.drain()
    assert sorted(ran) == [0, 1, 2]
    assert after.start(journal(5), "journal 5") is True  # room again
    await after.drain()
