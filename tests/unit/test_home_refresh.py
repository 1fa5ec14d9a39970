"""A trader's App Home is redrawn at most once an interval: at once for a quiet trader, then once at the
interval's end for every notice that came meanwhile (the last trade still shows)."""

from __future__ import annotations

import asyncio

from workers.slack.home_refresh import HomeRefresher


class Redraws:
    def __init__(self) -> None:
        self.users: list[str] = []

    async def __call__(self, user_id: str) -> None:
        self.users.append(user_id)


async def test_notices_within_the_interval_fold_into_one_redraw_at_its_end() -> None:
    redraws = Redraws()
    home = HomeRefresher(redraws, interval_s=0.2)
    await home.request("U1")  # a quiet trader: at once
    assert redraws.users == ["U1"]
    for _ in range(5):  # five more notices within the interval
        await home.request("U1")
    await home.request("U2")  # another trader is not held back
    assert redraws.users == ["U1", "U2"]
    await asyncio.sleep(0.35)
    assert redraws.users == ["U1", "U2", "U1"]  # one more, at the end of U1's interval


async def test_an_interval_of_zero_redraws_after_every_notice() -> None:
    redraws = Redraws()
    home = HomeRefresher(redraws, interval_s=0)
    for _ in range(3):
        await home.request("U1")
    assert redraws.users == ["U1"] * 3


async def test_closing_drops_the_redraws_still_due() -> None:
    redraws = Redraws()
    home = HomeRefresher(redraws, interval_s=5)
    await home.request("U1")
    await home.request("U1")
    await home.close()
    assert redraws.users == ["U1"]
