"""Account, clock, assets, credentials and market data: every answer parses with alpaca-py's models."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest, StockLatestTradeRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AccountStatus, AssetClass, AssetStatus, OrderSide, TimeInForce
from alpaca.trading.models import Asset, Clock, TradeAccount
from alpaca.trading.requests import MarketOrderRequest

from emulators.alpaca import AlpacaEmulator
from tests.waiting import eventually


def test_account_is_an_active_paper_margin_account(alpaca_trading_client: TradingClient) -> None:
    account = alpaca_trading_client.get_account()

    assert isinstance(account, TradeAccount)
    assert account.account_number.startswith("PA")
    assert account.status is AccountStatus.ACTIVE
    assert account.currency == "USD"
    assert Decimal(account.cash) == Decimal(500_000)
    assert Decimal(account.equity) == Decimal(account.portfolio_value) == Decimal(500_000)
    assert Decimal(account.buying_power) == Decimal(1_000_000)  # margin: 2 × cash
    assert account.multiplier == "2"
    assert account.trading_blocked is False


def test_the_account_turns_live_and_back_at_once_when_configured(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    paper = alpaca_trading_client.get_account().account_number

    alpaca_emulator.admin.configure(account_number="LA00LIVE01")
    assert alpaca_trading_client.get_account().account_number == "LA00LIVE01"

    alpaca_emulator.admin.configure(account_number=None)
    assert alpaca_trading_client.get_account().account_number == paper


def test_routes_answer_with_and_without_the_paper_prefix(alpaca_emulator: AlpacaEmulator) -> None:
    assert "/paper" in alpaca_emulator.base_url
    bare = TradingClient(
        alpaca_emulator.key_id, alpaca_emulator.secret_key, url_override=alpaca_emulator.origin
    )
    paper = TradingClient(
        alpaca_emulator.key_id, alpaca_emulator.secret_key, url_override=alpaca_emulator.base_url
    )

    assert bare.get_account().id == paper.get_account().id


def test_clock_opens_and_closes_when_told(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    clock = alpaca_trading_client.get_clock()
    assert isinstance(clock, Clock)
    assert clock.is_open is True
    assert clock.next_close < clock.next_open

    alpaca_emulator.admin.close_market()
    closed = alpaca_trading_client.get_clock()

    assert closed.is_open is False
    assert closed.next_open < closed.next_close
    assert closed.next_open.astimezone().utcoffset() is not None


def test_asset_parses_with_trading_flags(alpaca_trading_client: TradingClient) -> None:
    asset = alpaca_trading_client.get_asset("AAPL")

    assert isinstance(asset, Asset)
    assert asset.symbol == "AAPL"
    assert asset.asset_class is AssetClass.US_EQUITY
    assert asset.status is AssetStatus.ACTIVE
    assert asset.tradable and asset.fractionable and asset.shortable and asset.easy_to_borrow
    assert alpaca_trading_client.get_asset(asset.id).symbol == "AAPL"


def test_unknown_asset_is_alpacas_404(alpaca_trading_client: TradingClient) -> None:
    with pytest.raises(APIError) as raised:
        alpaca_trading_client.get_asset("ZZZZQX")

    assert raised.value.status_code == 404
    assert raised.value.code == 40410000
    assert raised.value.message == "asset not found for ZZZZQX"


def test_non_tradable_asset_is_flagged_and_refused(
    alpaca_emulator: AlpacaEmulator, alpaca_trading_client: TradingClient
) -> None:
    alpaca_emulator.admin.configure(non_tradable=["XYZQ"])

    assert alpaca_trading_client.get_asset("XYZQ").tradable is False
    with pytest.raises(APIError) as raised:
        alpaca_trading_client.submit_order(
            MarketOrderRequest(symbol="XYZQ", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
        )
    assert raised.value.status_code == 422
    assert raised.value.code == 42210000
    assert raised.value.message == 'asset "XYZQ" is not tradable'


def test_wrong_secret_is_401_request_not_authorized(alpaca_emulator: AlpacaEmulator) -> None:
    client = TradingClient(alpaca_emulator.key_id, "not-the-secret", url_override=alpaca_emulator.base_url)

    with pytest.raises(APIError) as raised:
        client.get_account()

    assert raised.value.status_code == 401
    assert raised.value.code == 40110000
    assert raised.value.message == "request is not authorized"


def test_wrong_key_on_market_data_is_403(alpaca_emulator: AlpacaEmulator) -> None:
    client = StockHistoricalDataClient(
        "PKWRONG", alpaca_emulator.secret_key, url_override=alpaca_emulator.data_url
    )

    with pytest.raises(APIError) as raised:
        client.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="AAPL"))

    assert raised.value.status_code == 403


def test_latest_quote_and_trade_follow_the_price_path(
    alpaca_emulator: AlpacaEmulator, alpaca_data_client: StockHistoricalDataClient
) -> None:
    alpaca_emulator.admin.set_price("AAPL", "200.00", freeze=True)

    quotes = alpaca_data_client.get_stock_latest_quote(
        StockLatestQuoteRequest(symbol_or_symbols=["AAPL", "MSFT"])
    )
    trades = alpaca_data_client.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="AAPL"))

    assert set(quotes) == {"AAPL", "MSFT"}
    quote, trade = quotes["AAPL"], trades["AAPL"]
    assert quote.bid_price < 200 < quote.ask_price
    assert quote.ask_price - quote.bid_price <= 0.1
    assert quote.bid_size > 0 and quote.ask_size > 0
    assert trade.price == 200.0 and trade.size > 0
    assert quote.timestamp.tzinfo is not None


def test_prices_walk_in_the_background(
    alpaca_emulator: AlpacaEmulator, alpaca_data_client: StockHistoricalDataClient
) -> None:
    request = StockLatestTradeRequest(symbol_or_symbols="NVDA")
    first = alpaca_data_client.get_stock_latest_trade(request)["NVDA"]

    def moved() -> bool:
        return alpaca_data_client.get_stock_latest_trade(request)["NVDA"].id != first.id

    eventually(moved, timeout=5)
