"""The Positions contract: one version-guarded write per trade, under the trade's audit guard."""

from __future__ import annotations

import uuid
from decimal import Decimal

import msgspec

from tests.contract.builders import POSITION_GUARD, audit, position
from workers.store.port import PositionWrite, TradeStore


async def test_a_position_is_applied_once_per_trade_and_guarded_by_version(store: TradeStore) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    assert (
        await store.apply_position(position(first, "10"), 0, audit(first, POSITION_GUARD))
        is PositionWrite.APPLIED
    )
    stored = await store.get_position("U123", "AAPL")
    assert stored == msgspec.structs.replace(position(first, "10"), version=1)

    # The trade's guard wins over the version, whether the version is right or stale.
    assert await store.apply_position(position(first, "20"), 1, audit(first, POSITION_GUARD)) is (
        PositionWrite.ALREADY_APPLIED
    )
    assert await store.apply_position(position(first, "20"), 0, audit(first, POSITION_GUARD)) is (
        PositionWrite.ALREADY_APPLIED
    )
    for stale in (0, 2, 7):
        assert await store.apply_position(position(second, "15"), stale, audit(second, POSITION_GUARD)) is (
            PositionWrite.VERSION_CONFLICT
        )
    assert await store.get_audit(second, POSITION_GUARD) is None
    assert await store.get_position("U123", "AAPL") == stored

    assert await store.apply_position(position(second, "15"), 1, audit(second, POSITION_GUARD)) is (
        PositionWrite.APPLIED
    )
    assert await store.get_position("U123", "AAPL") == msgspec.structs.replace(
        position(second, "15"), version=2
    )


async def test_a_position_for_a_new_symbol_conflicts_unless_expected_absent(store: TradeStore) -> None:
    trade_id = uuid.uuid4()
    assert await store.apply_position(position(trade_id, "1"), 1, audit(trade_id, POSITION_GUARD)) is (
        PositionWrite.VERSION_CONFLICT
    )
    assert await store.get_position("U123", "AAPL") is None


async def test_positions_are_listed_per_user_by_symbol_and_all_together(store: TradeStore) -> None:
    for user_id, symbol in [("U123", "MSFT"), ("U456", "AAPL"), ("U123", "AAPL")]:
        trade_id = uuid.uuid4()
        held = position(trade_id, "5", user_id=user_id, symbol=symbol)
        assert await store.apply_position(held, 0, audit(trade_id, POSITION_GUARD)) is PositionWrite.APPLIED
    listed = await store.list_positions("U123")
    assert [(held.symbol, held.version, held.quantity) for held in listed] == [
        ("AAPL", 1, Decimal(5)),
        ("MSFT", 1, Decimal(5)),
    ]
    assert await store.list_positions("U999") == []
    # every trader's, for reconciling with the account at the stock broker
    everyone = await store.list_all_positions()
    assert [(held.user_id, held.symbol) for held in everyone] == [
        ("U123", "AAPL"),
        ("U123", "MSFT"),
        ("U456", "AAPL"),
    ]


async def test_one_traders_symbol_in_two_accounts_is_two_positions_each_read_back_with_its_account(
    store: TradeStore,
) -> None:
    for account, quantity in ((None, "2"), ("growth", "3")):
        trade_id = uuid.uuid4()
        held = msgspec.structs.replace(position(trade_id, quantity), account=account)
        assert await store.apply_position(held, 0, audit(trade_id, POSITION_GUARD)) is PositionWrite.APPLIED
    desk = await store.get_position("U123", "AAPL")
    growth = await store.get_position("U123", "AAPL", "growth")
    assert desk is not None and (desk.symbol, desk.account, desk.quantity) == ("AAPL", None, Decimal(2))
    assert growth is not None and (growth.symbol, growth.account, growth.quantity) == (
        "AAPL",
        "growth",
        Decimal(3),
    )
    assert await store.get_position("U123", "AAPL", "income") is None
    listed = await store.list_positions("U123")
    assert sorted((p.symbol, p.account or "") for p in listed) == [("AAPL", ""), ("AAPL", "growth")]
    reading = await store.read_trade(uuid.uuid4(), position=("U123", "AAPL", "growth"))
    assert reading.position == growth
