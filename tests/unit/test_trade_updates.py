"""The trade_updates stream's listener: every process hears every order's end, one acts on it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from functools import partial
from types import SimpleNamespace

from brokers.alpaca_stream import TradeUpdates, claim_end
from brokers.shared_state import MemoryState


def _stream(shared: MemoryState, heard: list[str]) -> TradeUpdates:
    updates = TradeUpdates(api_key="PKTEST", secret_key="s", stream_url="ws://127.0.0.1:1/stream")
    updates.on_done = heard.append
    updates.claim = partial(claim_end, shared, "test-ends")
    return updates


def _update(event: str, client_order_id: str, **fields: object) -> SimpleNamespace:
    order = SimpleNamespace(client_order_id=client_order_id, status=event, side="buy")
    return SimpleNamespace(
        event=event, order=order, qty=fields.get("qty"), price=fields.get("price"), timestamp=None
    )


async def test_of_every_process_hearing_an_orders_end_one_settles_it() -> None:
    shared, heard = MemoryState(), []
    processes = [_stream(shared, heard) for _ in range(3)]
    for updates in processes:
        await updates._on_update(_update("canceled", "t-1"))
    assert heard == ["t-1"]


async def test_the_process_following_an_order_settles_it_itself_and_no_other_is_told() -> None:
    shared, heard = MemoryState(), []
    following, other = _stream(shared, heard), _stream(shared, heard)
    following.waiter("t-2")
    for updates in (following, other):
        await updates._on_update(_update("fill", "t-2", qty="5", price="10.5"))
    assert heard == []
    assert [f.quantity for f in following.fills("t-2")] == [Decimal(5)]
    following.release("t-2")  # the follower gave up (it rests): a later end is the listener's
    await other._on_update(_update("expired", "t-3"))
    assert heard == ["t-3"]


async def test_fills_move_the_accounts_buying_power_listener() -> None:
    moved: list[tuple[str, Decimal, Decimal]] = []
    updates = _stream(MemoryState(), [])
    updates.on_fill = lambda side, qty, price: moved.append((side, qty, price))
    await updates._on_update(_update("partial_fill", "t-4", qty="2", price="100"))
    await asyncio.sleep(0)
    assert moved == [("buy", Decimal(2), Decimal(100))]
