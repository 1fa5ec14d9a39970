"""The ingress publish answers within its deadline; a publish in doubt is never sent twice (defect 10)."""

from __future__ import annotations

import asyncio
import threading

import msgspec
import pytest

from messages.events import SubmitTrade
from tests.unit.fakes import submit
from tests.waiting import eventually
from workers.slack.submissions import Submissions, Submitted


class GatedPublish:
    """A publish that waits for `gate` (RabbitMQ blocked until it opens), counting what it was asked."""

    def __init__(self, *, open_: bool = False, error: Exception | None = None) -> None:
        self.gate = threading.Event()
        if open_:
            self.gate.set()
        self.error = error
        self.calls: list[SubmitTrade] = []

    def __call__(self, command: SubmitTrade) -> None:
        self.calls.append(command)
        assert self.gate.wait(timeout=10)
        if self.error is not None:
            raise self.error


async def test_a_confirmed_publish_is_confirmed() -> None:
    publish = GatedPublish(open_=True)
    submissions = Submissions(publish, deadline_s=1)
    command = submit()
    assert await submissions.submit(command) == (Submitted.CONFIRMED, command)
    await submissions.close()


async def test_a_publish_in_doubt_is_waited_on_not_sent_again() -> None:
    publish = GatedPublish()
    submissions = Submissions(publish, deadline_s=0.1)
    command = submit()
    changed = SubmitTrade(trade=msgspec.structs.replace(command.trade, quantity=command.trade.quantity + 1))

    assert (await submissions.submit(command))[0] is Submitted.UNCONFIRMED
    assert (await submissions.submit(changed))[0] is Submitted.UNCONFIRMED  # same trade id: waits
    publish.gate.set()  # RabbitMQ confirms the first publish, late
    assert await submissions.submit(changed) == (Submitted.CONFIRMED, command)  # the trade that counts

    assert publish.calls == [command]
    await submissions.close()


async def test_a_publish_in_doubt_that_failed_is_sent_again() -> None:
    publish = GatedPublish(error=ConnectionError("blocked connection timeout"))
    submissions = Submissions(publish, deadline_s=0.1)
    command = submit()
    assert (await submissions.submit(command))[0] is Submitted.UNCONFIRMED
    publish.gate.set()  # the blocked connection is closed: that publish fails, nothing was queued
    await asyncio.to_thread(eventually, lambda: submissions.in_doubt == 0, 5)
    publish.error = None
    submissions.deadline_s = 1
    assert (await submissions.submit(command))[0] is Submitted.CONFIRMED
    assert len(publish.calls) == 2
    await submissions.close()


async def test_a_publish_that_fails_in_time_raises() -> None:
    submissions = Submissions(GatedPublish(open_=True, error=ConnectionError("refused")), deadline_s=1)
    with pytest.raises(ConnectionError):
        await submissions.submit(submit())
    await submissions.close()


async def test_a_publish_queued_behind_blocked_ones_is_never_sent() -> None:
    publish = GatedPublish()
    submissions = Submissions(publish, deadline_s=0.1, threads=1)
    first, queued = submit(), submit()
    assert (await submissions.submit(first))[0] is Submitted.UNCONFIRMED
    assert (await submissions.submit(queued))[0] is Submitted.FAILED  # cancelled before it started
    publish.gate.set()
    await submissions.close()
    assert publish.calls == [first]
