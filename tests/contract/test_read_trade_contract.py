"""The TradeStore contract for `read_trade` on all three backends: the trade, the asked audit events that
exist and a position, read together; the chain head is never an audit event."""

from __future__ import annotations

import uuid

import msgspec

from tests.contract.builders import EXECUTED, POSITION_GUARD, SUBMITTED, audit, pending, position, unchained
from workers.store.port import PositionWrite, TradeStore


async def test_an_unknown_trade_reads_as_nothing(store: TradeStore) -> None:
    reading = await store.read_trade(uuid.uuid4(), audit_keys={SUBMITTED}, position=("U123", "AAPL", None))
    assert (reading.trade, reading.audit, reading.position) == (None, {}, None)


async def test_the_asked_audit_events_that_exist_come_with_the_trade(store: TradeStore) -> None:
    record = pending()
    submitted = audit(record.trade_id, SUBMITTED)
    await store.put_new_trade(record, [submitted])

    reading = await store.read_trade(record.trade_id, audit_keys={SUBMITTED, EXECUTED, "000#chain_head"})
    assert reading.trade == record
    assert list(reading.audit) == [SUBMITTED]
    assert unchained(reading.audit[SUBMITTED]) == submitted
    assert reading.position is None
    assert (await store.read_trade(record.trade_id)).audit == {}


async def test_the_asked_position_comes_with_the_trade(store: TradeStore) -> None:
    record = pending()
    await store.put_new_trade(record, [audit(record.trade_id, SUBMITTED)])
    held = position(record.trade_id, "10")
    guard = audit(record.trade_id, POSITION_GUARD)
    assert await store.apply_position(held, 0, guard) is PositionWrite.APPLIED

    reading = await store.read_trade(record.trade_id, position=("U123", "AAPL", None))
    assert reading.trade == record
    assert reading.position == msgspec.structs.replace(held, version=1)
    assert (await store.read_trade(record.trade_id, position=("U123", "MSFT", None))).position is None
