"""Fixtures the Alpaca emulator order tests share."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alpaca.trading.enums import (
    OrderSide,
    TimeInForce,
)

from emulators.alpaca import AlpacaEmulator

BUY, SELL, DAY, GTC = OrderSide.BUY, OrderSide.SELL, TimeInForce.DAY, TimeInForce.GTC


@pytest.fixture
def frozen_aapl(alpaca_emulator: AlpacaEmulator) -> Decimal:
    """AAPL held still at $200.00 mid (bid 199.98, ask 200.02), so prices in a test are known."""
    alpaca_emulator.admin.set_price("AAPL", "200.00", freeze=True)
    return Decimal("200.00")
