"""Several paper accounts on one Alpaca emulator, each behind its own key pair: own number, cash, orders,
positions, rate-limit window and trade_updates stream, in one shared market; the admin views per account;
and the accounts given on the command line or in the environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, TimeInForce
from alpaca.trading.models import TradeUpdate
from alpaca.trading.requests import MarketOrderRequest, StopLossRequest, TakeProfitRequest
from alpaca.trading.stream import TradingStream

from emulators.alpaca import AdminError, AlpacaEmulator, EmulatorConfig
from emulators.alpaca.__main__ import accounts_from, parse_args
from emulators.alpaca.config import AccountSpec
from tests.emulators.alpaca_order_helpers import market, settled
from tests.emulators.test_alpaca_stream import DEADLINE_S, until

GTC = TimeInForce.GTC
DESK2 = {"name": "desk2", "key_id": "PKEMULATOR00000000002", "secret_key": "emulator-secret-2"}
DESK3 = {"name": "desk3", "key_id": "PKEMULATOR00000000003", "secret_key": "emulator-secret-3"}


@pytest.fixture
def desks(alpaca_emulator: AlpacaEmulator) -> AlpacaEmulator:
    """The session's emulator with two more accounts until the next test's reset; desk2 starts with
    $250,000, desk3 with the default's $500,000."""
    alpaca_emulator.admin.reset(accounts=[{**DESK2, "starting_cash": "250000"}, DESK3])
    alpaca_emulator.admin.set_price("AAPL", "200.00", freeze=True)
    return alpaca_emulator


def client_of(emulator: AlpacaEmulator, key_id: str, secret: str) -> TradingClient:
    return TradingClient(key_id, secret, paper=True, url_override=emulator.base_url)


@asynccontextmanager
async def trade_updates(
    emulator: AlpacaEmulator, key_id: str, secret: str
) -> AsyncIterator[list[TradeUpdate]]:
    stream = TradingStream(key_id, secret, paper=True, url_override=emulator.stream_url)
    received: list[TradeUpdate] = []

    async def on_update(update: TradeUpdate) -> None:
        received.append(update)

    stream.subscribe_trade_updates(on_update)
    running = asyncio.create_task(stream._run_forever())
    try:
        yield received
    finally:
        await stream.stop_ws()
        await stream.close()
        await asyncio.wait_for(running, timeout=DEADLINE_S)


def test_each_key_pair_is_an_account_of_its_own(desks: AlpacaEmulator) -> None:
    default = client_of(desks, desks.key_id, desks.secret_key)
    desk2 = client_of(desks, DESK2["key_id"], DESK2["secret_key"])

    first, second = default.get_account(), desk2.get_account()
    assert first.account_number != second.account_number
    assert first.account_number.startswith("PA") and second.account_number.startswith("PA")
    assert (Decimal(first.cash), Decimal(second.cash)) == (Decimal(500_000), Decimal(250_000))

    bought = desk2.submit_order(market(qty=10, client_order_id="same-id"))
    settled(desk2, bought.id)
    mine = default.submit_order(market(qty=1, client_order_id="same-id"))  # unique per account only
    settled(default, mine.id)

    assert desk2.get_open_position("AAPL").qty == "10" and default.get_open_position("AAPL").qty == "1"
    assert Decimal(desk2.get_account().cash) == Decimal(250_000) - Decimal("2000.20")
    assert Decimal(default.get_account().cash) == Decimal(500_000) - Decimal("200.02")
    with pytest.raises(APIError) as raised:
        default.get_order_by_id(bought.id)
    assert (raised.value.status_code, raised.value.code) == (404, 40410000)
    assert default.get_order_by_client_id("same-id").id == mine.id


def test_the_market_is_shared_by_every_account(desks: AlpacaEmulator) -> None:
    default = client_of(desks, desks.key_id, desks.secret_key)
    desk3 = client_of(desks, DESK3["key_id"], DESK3["secret_key"])

    desks.admin.set_price("AAPL", "150.00", freeze=True)
    fills = [settled(c, c.submit_order(market(qty=1)).id).filled_avg_price for c in (default, desk3)]
    desks.admin.close_market()

    assert fills == ["150.02", "150.02"]
    assert default.get_clock().is_open is False and desk3.get_clock().is_open is False


async def test_a_stream_hears_only_its_own_account(desks: AlpacaEmulator) -> None:
    default = client_of(desks, desks.key_id, desks.secret_key)
    desk2 = client_of(desks, DESK2["key_id"], DESK2["secret_key"])
    admin = desks.admin

    async with (
        trade_updates(desks, desks.key_id, desks.secret_key) as heard_by_default,
        trade_updates(desks, DESK2["key_id"], DESK2["secret_key"]) as heard_by_desk2,
    ):
        await until(lambda: admin.stream_listeners() == 1 and admin.stream_listeners("desk2") == 1)
        assert admin.stream_listeners("desk3") == 0
        theirs = desk2.submit_order(market(qty=2))
        ours = default.submit_order(market(qty=3))
        await until(lambda: any(u.event == "fill" for u in heard_by_desk2))
        await until(lambda: any(u.event == "fill" for u in heard_by_default))

    assert {u.order.id for u in heard_by_desk2} == {theirs.id}
    assert {u.order.id for u in heard_by_default} == {ours.id}


def test_each_account_has_its_own_rate_limit_window(desks: AlpacaEmulator) -> None:
    desks.admin.configure(rate_limit=3)
    default = client_of(desks, desks.key_id, desks.secret_key)
    desk2 = client_of(desks, DESK2["key_id"], DESK2["secret_key"])
    default._retry = 0  # alpaca-py's own resend of a 429: off, to see the first answer

    for _ in range(3):
        default.get_clock()
    with pytest.raises(APIError) as raised:
        default.get_clock()

    assert (raised.value.status_code, raised.value.code) == (429, 42910000)
    assert desk2.get_clock().is_open is True
    assert desks.admin.rate_limits("desk2")["trading"]["keys"][DESK2["key_id"]]["used"] == 1
    assert desks.admin.rate_limits()["trading"]["keys"][desks.key_id]["remaining"] == 0


def test_admin_views_and_faults_are_per_account(desks: AlpacaEmulator) -> None:
    admin = desks.admin
    default = client_of(desks, desks.key_id, desks.secret_key)
    desk2 = client_of(desks, DESK2["key_id"], DESK2["secret_key"])
    order = desk2.submit_order(market(qty=1, client_order_id="desk2-1"))
    settled(desk2, order.id)

    assert [o["client_order_id"] for o in admin.orders(account="desk2")] == ["desk2-1"]
    assert admin.orders(account=DESK2["key_id"]) == admin.orders(account="desk2")  # by key id too
    assert admin.orders() == [] and admin.executions() == []
    assert len(admin.executions(account="desk2")) == 1
    assert admin.request_count("POST", "/v2/orders", account="desk2") == 1
    assert admin.request_count("POST", "/v2/orders") == 0
    status = admin.status("desk2")
    assert (status["account"], status["orders"], status["accounts"]) == (
        "desk2",
        1,
        ["default", "desk2", "desk3"],
    )
    assert [a["name"] for a in admin.accounts()] == ["default", "desk2", "desk3"]

    admin.add_fault("http_error", account="desk2", status=503, path="/v2/account")
    assert Decimal(default.get_account().cash) == Decimal(500_000)  # not the default's fault
    with pytest.raises(APIError) as raised:
        desk2.get_account()
    assert (raised.value.status_code, raised.value.code) == (503, 50310000)
    assert admin.faults(account="desk2")[0]["hits"] == 1 and admin.faults() == []
    with pytest.raises(AdminError):
        admin.orders(account="nobody")


def test_a_known_key_with_another_accounts_secret_is_refused(desks: AlpacaEmulator) -> None:
    mixed = client_of(desks, DESK2["key_id"], desks.secret_key)

    with pytest.raises(APIError) as raised:
        mixed.get_account()

    assert (raised.value.status_code, raised.value.code) == (401, 40110000)
    assert raised.value.message == "request is not authorized"


def test_a_price_move_fires_only_the_orders_of_the_account_that_has_them(desks: AlpacaEmulator) -> None:
    desk3 = client_of(desks, DESK3["key_id"], DESK3["secret_key"])
    default = client_of(desks, desks.key_id, desks.secret_key)
    settled(default, default.submit_order(market(qty=5)).id)
    entry = desk3.submit_order(
        MarketOrderRequest(
            symbol="AAPL",
            qty=5,
            side=OrderSide.BUY,
            time_in_force=GTC,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=210),
            stop_loss=StopLossRequest(stop_price=190),
        )
    )
    take_profit, stop_loss = entry.legs or []
    settled(desk3, take_profit.id, OrderStatus.NEW)

    desks.admin.set_price("AAPL", "189.00", freeze=True)  # the one market moves for both

    assert settled(desk3, stop_loss.id).filled_qty == "5"
    assert desk3.get_all_positions() == []
    assert default.get_open_position("AAPL").qty == "5" and default.get_orders() == []
    assert desks.admin.orders() != desks.admin.orders(account="desk3")


def test_accounts_come_from_the_command_line_and_the_environment() -> None:
    args = parse_args(["--account", "desk2:PKEMULATOR00000000002:secret-2:1000"])
    environ = {"ALPACA_EMULATOR_ACCOUNTS": "desk3:PKEMULATOR00000000003:secret-3, desk4:PKEMULATOR4:s4"}

    specs = accounts_from(args, environ)

    assert [s.name for s in specs] == ["desk3", "desk4", "desk2"]
    assert specs[2] == AccountSpec(
        name="desk2", key_id="PKEMULATOR00000000002", secret_key="secret-2", starting_cash=Decimal(1000)
    )
    assert accounts_from(parse_args([]), {}) == ()
    with pytest.raises(ValueError, match="NAME:KEY_ID:SECRET"):
        accounts_from(parse_args(["--account", "desk2:PKONLY"]), {})
    with pytest.raises(ValueError, match="its own key_id"):
        EmulatorConfig(accounts=(AccountSpec(name="copy", key_id=EmulatorConfig().key_id, secret_key="x"),))
