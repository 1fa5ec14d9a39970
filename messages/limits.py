"""The desk's risk limits: per trader and per account, set by operators, kept as one versioned item.

A limit left unset (None) does not apply. A trader's own limits win over the desk's defaults for traders
(`desk`); an account's limits bound the account's totals, whoever trades in it. Validation reads them
(workers/handlers/limit_checks.py); `tradeflow limits set|show|clear` changes them, journaled.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

LimitScope = Literal["desk", "user", "account"]


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One scope's limits; None: not set here."""

    # Dollars bought (sold) today, New York's trading day, counting open and executed trades.
    daily_buy_notional: Decimal | None = None
    daily_sell_notional: Decimal | None = None
    max_open_orders: int | None = None  # orders pending, awaiting approval, working or unknown at once
    max_position_quantity: Decimal | None = None  # shares held in one symbol after the trade, long or short
    max_position_equity_pct: Decimal | None = None  # one symbol's value after the trade, % of the equity
    max_orders_per_minute: int | None = None
    price_collar_pct: Decimal | None = None  # a limit or stop price at most this % from the last quote
    duplicate_window_s: int | None = None  # same trader, symbol, side and size within it: confirm first
    # Day P&L at or below minus this many dollars halts the trader (or account) in the REDUCING state.
    day_loss_halt: Decimal | None = None
    # Trades above this notional wait for an approver (four eyes); set per desk or per account.
    approval_notional: Decimal | None = None
    updated_by: str = ""
    updated_at: datetime | None = None


LIMIT_NAMES: tuple[str, ...] = tuple(
    name for name in RiskLimits.__struct_fields__ if name not in ("updated_by", "updated_at")
)


class DeskLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Every scope's limits, replaced as one item under an optimistic version check (like the roster)."""

    desk: RiskLimits = RiskLimits()
    users: dict[str, RiskLimits] = {}
    accounts: dict[str, RiskLimits] = {}
    version: int = 0

    def for_user(self, user_id: str) -> RiskLimits:
        """The trader's limits: each one their own where set, else the desk's default."""
        return overlay(self.desk, self.users.get(user_id))

    def for_account(self, account: str | None) -> RiskLimits:
        return self.accounts.get(account or "", RiskLimits())


def overlay(base: RiskLimits, top: RiskLimits | None) -> RiskLimits:
    """`top`'s limits where set, `base`'s elsewhere."""
    if top is None:
        return base
    chosen = {name: getattr(top, name) for name in LIMIT_NAMES if getattr(top, name) is not None}
    return msgspec.structs.replace(base, **chosen)
