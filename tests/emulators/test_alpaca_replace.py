"""Replace order (`PATCH /v2/orders/{id}`) on the Alpaca emulator, through alpaca-py's replace_order_by_id:
the new order names the old one, the old one ends `replaced`, and Alpaca's refusals."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
)

from emulators.alpaca import AlpacaEmulator
from tests.emulators.alpaca_order_helpers import settled
from tests.emulators.test_alpaca_stream import events_of, trade_updates, until

BUY, DAY, GTC = OrderSide.BUY, TimeInForce.DAY, TimeInForce.GTC


def resting_buy(client: TradingClient, qty: int = 5, limit: float = 150) -> object:
    """A limit buy far under the market (AAPL held at $200): it rests, `new`."""
    order = client.submit_order(
        LimitOrderRequest(symbol="AAPL", qty=qty, side=BUY, time_in_force=GTC, limit_price=limit)
    )
    return settled(client, order.id, OrderStatus.NEW).id


def refusal(call: object) -> tuple[int | None, int | None, str]:
    with pytest.raises(APIError) as raised:
        call()  # type: ignore[operator]
    return raised.value.status_code, raised.value.code, raised.value.message


async def test_a_replaced_order_ends_replaced_and_its_replacement_names_it(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    async with trade_updates(alpaca_emulator) as received:
        await until(lambda: alpaca_emulator.admin.stream_listeners() == 1)
        old_id = resting_buy(client)

        new = client.replace_order_by_id(old_id, ReplaceOrderRequest(limit_price=160, qty=7))

        assert new.id != old_id and str(new.replaces) == str(old_id)
        assert (new.limit_price, new.qty, new.side, new.symbol) == ("160", "7", BUY, "AAPL")
        assert new.time_in_force is GTC  # what the patch did not set stays the old order's
        old = client.get_order_by_id(old_id)
        assert old.status is OrderStatus.REPLACED and str(old.replaced_by) == str(new.id)
        assert old.replaced_at is not None
        assert [o.id for o in client.get_orders()] == [new.id]  # the old one is closed
        closed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
        assert [o.id for o in closed] == [old_id]
        await until(lambda: "new" in events_of(received, new.id))
        assert events_of(received, old_id)[-1] == "replaced"


def test_a_replacement_fills_at_its_own_limit(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    new = client.replace_order_by_id(resting_buy(client), ReplaceOrderRequest(limit_price=201))

    filled = settled(client, new.id, OrderStatus.FILLED)

    assert filled.filled_qty == "5" and Decimal(filled.filled_avg_price or "0") <= Decimal("201")


def test_buying_power_holds_the_larger_of_the_old_order_and_its_replacement(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    old_id = resting_buy(client, qty=4_000, limit=150)  # $600,000 of the $1,000,000 held

    # Both counted, $1,275,000 would be refused; Alpaca holds the larger of the two only.
    new = client.replace_order_by_id(old_id, ReplaceOrderRequest(qty=4_500))

    assert new.qty == "4500"
    with pytest.raises(APIError) as raised:  # beyond the buying power by itself, it is refused
        client.replace_order_by_id(new.id, ReplaceOrderRequest(qty=7_000))
    assert (raised.value.status_code, raised.value.code) == (403, 40310000)
    assert client.get_order_by_id(new.id).status is OrderStatus.NEW  # a refused replace changes nothing


def test_replacing_is_refused_as_alpaca_refuses_it(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    resting = resting_buy(client)
    assert refusal(lambda: client.replace_order_by_id(resting, ReplaceOrderRequest(limit_price=150))) == (
        403,
        40310000,
        "order parameters are not changed",
    )
    assert refusal(lambda: client.replace_order_by_id(uuid.uuid4(), ReplaceOrderRequest(qty=1))) == (
        404,
        40410000,
        "order not found",
    )
    filled = client.submit_order(MarketOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=DAY))
    settled(client, filled.id, OrderStatus.FILLED)
    assert refusal(lambda: client.replace_order_by_id(filled.id, ReplaceOrderRequest(qty=2))) == (
        422,
        42210000,
        'order is already in "filled" state',
    )
    notional = client.submit_order(
        MarketOrderRequest(symbol="AAPL", notional=50, side=BUY, time_in_force=DAY)
    )
    alpaca_emulator.admin.close_market()
    queued = client.submit_order(
        LimitOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=GTC, limit_price=150)
    )
    assert client.get_order_by_id(queued.id).status is OrderStatus.ACCEPTED
    assert refusal(lambda: client.replace_order_by_id(queued.id, ReplaceOrderRequest(qty=2))) == (
        422,
        42210000,
        "unable to replace order, order isn't sent to exchange yet",
    )
    assert client.get_order_by_id(notional.id).status in (OrderStatus.FILLED, OrderStatus.NEW)


def test_a_fractional_quantity_cannot_be_patched(
    alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    client = alpaca_trading_client
    resting = resting_buy(client)

    status, code, _ = refusal(lambda: client.patch(f"/orders/{resting}", {"qty": "1.5"}))

    assert (status, code) == (422, 40010001)
    assert client.get_order_by_id(resting).status is OrderStatus.NEW


def test_an_order_that_is_filling_when_replaced_fills_and_its_replacement_is_rejected(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient, frozen_aapl: Decimal
) -> None:
    """Alpaca: a success does not promise the replace; the old order filled first, the new one fails."""
    alpaca_emulator.admin.configure(partial_fills=3, partial_interval_ms=400)
    client = alpaca_trading_client
    old = client.submit_order(
        LimitOrderRequest(symbol="AAPL", qty=3, side=BUY, time_in_force=GTC, limit_price=201)
    )
    settled(client, old.id, OrderStatus.PARTIALLY_FILLED)

    new = client.replace_order_by_id(old.id, ReplaceOrderRequest(limit_price=199))

    assert str(new.replaces) == str(old.id)
    assert settled(client, old.id, OrderStatus.FILLED).filled_qty == "3"
    assert settled(client, new.id, OrderStatus.REJECTED).filled_qty == "0"
    assert client.get_order_by_id(old.id).replaced_by is None
