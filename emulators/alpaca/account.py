"""The paper account: cash, positions, and the margin arithmetic behind buying power.

A Reg T margin account with multiplier 2, as Alpaca paper accounts are by default:
equity = cash + long market value + short market value (negative),
initial margin = 50 % of the gross position value, buying power = (equity − initial margin) × 2.
A fresh account therefore shows buying power = 2 × cash; buying $100 of stock uses $100 of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emulators.alpaca.assets import Asset
from emulators.alpaca.formats import NINE_PLACES, decimal_text, money_text, now_ns, rfc3339_ns

MULTIPLIER = Decimal(2)
INITIAL_MARGIN = Decimal("0.5")
MAINTENANCE_MARGIN = Decimal("0.3")
ZERO = Decimal(0)

Mark = Callable[[str], Decimal]  # the price a position is valued at: the symbol's last trade


@dataclass
class Position:
    asset: Asset
    qty: Decimal  # signed: negative is short
    avg_entry_price: Decimal

    def cost_basis(self) -> Decimal:
        return self.qty * self.avg_entry_price

    def to_json(self, mark: Decimal, lastday_price: Decimal) -> dict[str, Any]:
        market_value = self.qty * mark
        cost_basis = self.cost_basis()
        unrealized = market_value - cost_basis
        intraday = market_value - self.qty * lastday_price
        basis = abs(cost_basis) or Decimal(1)
        lastday_value = abs(self.qty * lastday_price) or Decimal(1)
        return {
            "asset_id": self.asset.id,
            "symbol": self.asset.symbol,
            "exchange": self.asset.exchange,
            "asset_class": "us_equity",
            "asset_marginable": True,
            "qty": decimal_text(self.qty),
            "avg_entry_price": decimal_text(self.avg_entry_price.quantize(NINE_PLACES)),
            "side": "long" if self.qty > 0 else "short",
            "market_value": money_text(market_value),
            "cost_basis": money_text(cost_basis),
            "unrealized_pl": money_text(unrealized),
            "unrealized_plpc": decimal_text((unrealized / basis).quantize(NINE_PLACES)),
            "unrealized_intraday_pl": money_text(intraday),
            "unrealized_intraday_plpc": decimal_text((intraday / lastday_value).quantize(NINE_PLACES)),
            "current_price": decimal_text(mark),
            "lastday_price": decimal_text(lastday_price),
            "change_today": decimal_text(((mark - lastday_price) / lastday_price).quantize(NINE_PLACES)),
            "qty_available": decimal_text(self.qty),
        }


class Account:
    def __init__(
        self, *, starting_cash: Decimal, seed: int, account_number: str | None = None, label: str = ""
    ) -> None:
        ids = uuid.UUID(int=uuid.uuid5(uuid.NAMESPACE_URL, f"alpaca-emulator/{seed}{label}").int)
        self.id = str(ids)
        # Alpaca paper account numbers are "PA" + 10 characters; a test may pose as a live account.
        self.paper_number = "PA" + ids.hex[:10].upper()
        self.account_number = account_number or self.paper_number
        self.created_at_ns = now_ns()
        self.cash = starting_cash
        self.last_equity = starting_cash
        self.positions: dict[str, Position] = {}

    def position_qty(self, symbol: str) -> Decimal:
        position = self.positions.get(symbol)
        return position.qty if position else ZERO

    def apply_fill(self, asset: Asset, side: str, qty: Decimal, price: Decimal) -> Decimal:
        """Move cash and the position by one execution; return the position's quantity after it."""
        signed = qty if side == "buy" else -qty
        self.cash -= signed * price
        position = self.positions.get(asset.symbol)
        old = position.qty if position else ZERO
        new = old + signed
        if new == 0:
            self.positions.pop(asset.symbol, None)
        elif position is None or old == 0 or (old > 0) == (signed > 0):
            old_cost = abs(old) * position.avg_entry_price if position else ZERO
            average = (old_cost + qty * price) / abs(new)
            self.positions[asset.symbol] = Position(asset, new, average)
        elif (old > 0) != (new > 0):  # flipped through zero: the rest opens at this price
            self.positions[asset.symbol] = Position(asset, new, price)
        else:  # reduced: the average entry of what is left does not change
            position.qty = new
        return new

    def market_values(self, mark: Mark) -> tuple[Decimal, Decimal]:
        long = sum((p.qty * mark(s) for s, p in self.positions.items() if p.qty > 0), ZERO)
        short = sum((p.qty * mark(s) for s, p in self.positions.items() if p.qty < 0), ZERO)
        return long, short

    def equity(self, mark: Mark) -> Decimal:
        long, short = self.market_values(mark)
        return self.cash + long + short

    def buying_power(self, mark: Mark) -> Decimal:
        long, short = self.market_values(mark)
        equity = self.cash + long + short
        return max(ZERO, (equity - INITIAL_MARGIN * (long - short)) * MULTIPLIER)

    def to_json(self, mark: Mark) -> dict[str, Any]:
        """Every field alpaca-py's TradeAccount reads (the day-trading fields Alpaca dropped are absent)."""
        long, short = self.market_values(mark)
        equity = self.cash + long + short
        gross = long - short
        buying_power = self.buying_power(mark)
        return {
            "id": self.id,
            "admin_configurations": {},
            "user_configurations": None,
            "account_number": self.account_number,
            "status": "ACTIVE",
            "crypto_status": "ACTIVE",
            "options_approved_level": 0,
            "options_trading_level": 0,
            "currency": "USD",
            "buying_power": money_text(buying_power),
            "regt_buying_power": money_text(buying_power),
            "non_marginable_buying_power": money_text(max(ZERO, self.cash)),
            "options_buying_power": money_text(max(ZERO, self.cash)),
            "effective_buying_power": money_text(buying_power),
            "cash": money_text(self.cash),
            "accrued_fees": "0",
            "pending_transfer_in": "0",
            "pending_transfer_out": "0",
            "portfolio_value": money_text(equity),
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "created_at": rfc3339_ns(self.created_at_ns),
            "trade_suspended_by_user": False,
            "multiplier": decimal_text(MULTIPLIER),
            "shorting_enabled": True,
            "equity": money_text(equity),
            "last_equity": money_text(self.last_equity),
            "long_market_value": money_text(long),
            "short_market_value": money_text(short),
            "position_market_value": money_text(gross),
            "initial_margin": money_text(INITIAL_MARGIN * gross),
            "maintenance_margin": money_text(MAINTENANCE_MARGIN * gross),
            "last_maintenance_margin": "0",
            "sma": money_text(self.last_equity),
            "crypto_tier": 0,
        }
