"""What a trader may ask of orders already sent, and the clear answer to what they may not: an unknown,
foreign or finished trade id, another trader's orders, a market order to modify, a malformed price."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from messages.events import CancelOrder, ModifyOrder, cancel_command_id
from messages.records import TradeRecord
from tests.contract.builders import a_trade, executed, pending, working
from tests.unit.fakes import FakeRoles
from workers.handlers.cancel_requests import BadCancel, plan_cancel
from workers.handlers.position_closes import BadClose, closing_trades
from workers.slack.modify_form import modify_modal, read_modify
from workers.slack.order_commands import OrderCommands
from workers.slack.submissions import Submissions
from workers.store.memory.store import MemoryTradeStore

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


async def _store(*records: TradeRecord) -> MemoryTradeStore:
    store = MemoryTradeStore()
    for record in records:
        await store.put_new_trade(record, [])
    return store


async def _plan(store: MemoryTradeStore, target: str, requester: str = "U123", **kw: object) -> list[str]:
    plan = await plan_cancel(store, target, requester=requester, operator=False, at=NOW, source="t", **kw)  # type: ignore[arg-type]
    return [str(c.trade.trade_id) for c in plan.commands]


async def test_a_cancel_names_the_traders_own_open_orders_by_id_symbol_or_all() -> None:
    mine = working(pending(a_trade(order_type="limit", limit_price=Decimal(1))))
    mine_msft = working(pending(a_trade(symbol="MSFT", order_type="limit", limit_price=Decimal(1))))
    theirs = working(pending(a_trade(user_id="U456", order_type="limit", limit_price=Decimal(1))))
    done = executed(pending(a_trade()))
    store = await _store(mine, mine_msft, theirs, done)

    assert await _plan(store, str(mine.trade_id)) == [str(mine.trade_id)]
    assert await _plan(store, "msft") == [str(mine_msft.trade_id)]
    assert sorted(await _plan(store, "all")) == sorted([str(mine.trade_id), str(mine_msft.trade_id)])
    plan = await plan_cancel(store, "all", requester="OPS", operator=True, at=NOW, source="t", owner="U456")
    assert [c.requested_by for c in plan.commands] == ["OPS"]
    assert plan.commands[0].command_id == cancel_command_id(theirs.trade_id)  # one cancel per trade
    assert isinstance(plan.commands[0], CancelOrder)


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("THEIRS", "No trade of yours has the id"),
        ("DONE", "is already executed: there is nothing left to cancel"),
        (str(uuid.UUID(int=7)), "No trade of yours has the id"),
        ("everyone", "for operators only"),
        ("buy; drop table", "is not a trade id, a symbol or `all`"),
    ],
)
async def test_a_cancel_that_names_nothing_it_may_cancel_is_refused_with_why(target: str, says: str) -> None:
    theirs = working(pending(a_trade(user_id="U456", order_type="limit", limit_price=Decimal(1))))
    done = executed(pending(a_trade()))
    store = await _store(theirs, done)
    target = {"THEIRS": str(theirs.trade_id), "DONE": str(done.trade_id)}.get(target, target)
    with pytest.raises(BadCancel, match=says):
        await _plan(store, target)
    with pytest.raises(BadCancel, match="another trader's orders is for operators only"):
        await _plan(store, "all", owner="U456")


async def test_a_close_refuses_a_non_symbol_and_a_position_not_held() -> None:
    store = MemoryTradeStore()
    with pytest.raises(BadClose, match="is not a symbol"):
        await closing_trades(store, "U123", "a@b", channel_id=None, at=NOW, source="t")
    with pytest.raises(BadClose, match="You hold no AAPL to close"):
        await closing_trades(store, "U123", "AAPL", channel_id=None, at=NOW, source="t")


async def test_modify_refuses_a_market_order_and_a_foreign_or_finished_trade() -> None:
    market = working(pending(a_trade()))
    theirs = working(pending(a_trade(user_id="U456", order_type="limit", limit_price=Decimal(1))))
    done = executed(pending(a_trade(order_type="limit", limit_price=Decimal(1))))
    store = await _store(market, theirs, done)
    roles = FakeRoles(U123={"trader"})
    commands = OrderCommands(
        store=store, roles=roles, send=lambda m: None, submissions=Submissions(lambda c: None)
    )  # type: ignore[arg-type]

    assert "market order cannot be modified" in str(await commands.modifiable("U123", str(market.trade_id)))
    assert "No trade of yours" in str(await commands.modifiable("U123", str(theirs.trade_id)))
    assert "already executed" in str(await commands.modifiable("U123", str(done.trade_id)))
    assert "Say which order" in str(await commands.modifiable("U123", "AAPL"))
    assert "trader* role" in str(await commands.modifiable("U999", str(market.trade_id)))


def _submitted(view: dict[str, object], values: dict[str, str]) -> dict[str, object]:
    state = {block: {block: {"type": "plain_text_input", "value": value}} for block, value in values.items()}
    return {**view, "state": {"values": state}}


def test_a_malformed_price_or_fractional_quantity_is_an_error_under_its_block() -> None:
    resting = working(pending(a_trade(order_type="limit", limit_price=Decimal(1), quantity=Decimal(8))), "2")
    view = modify_modal(resting, uuid.uuid4())
    quantity = next(b for b in view["blocks"] if b.get("block_id") == "quantity")
    assert quantity["element"]["initial_value"] == "6"  # what is left to fill

    errors = read_modify(_submitted(view, {"quantity": "2.5", "limit_price": "abc"}), resting, user_id="U123")
    assert isinstance(errors, dict) and set(errors) == {"quantity", "limit_price"}
    command = read_modify(_submitted(view, {"quantity": "5", "limit_price": "1.25"}), resting, user_id="U123")
    assert isinstance(command, ModifyOrder)
    assert (command.replacement.quantity, command.replacement.limit_price) == (Decimal(5), Decimal("1.25"))
    assert str(command.replacement.trade_id) == json.loads(view["private_metadata"])["replacement_id"]
