"""The risk limits at validation: the trader's (their own over the desk's defaults) and their account's, each
against what that scope did so far. The store is read only for the limits that are set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from brokers.port import MarketConditions
from messages.limits import DeskLimits, RiskLimits
from messages.records import Position
from messages.trade import Rejection, TradeRequest
from workers.handlers.limit_checks import Exposure, Usage, limit_reasons
from workers.handlers.usage import account_usage, trader_usage
from workers.store.port import TradeStore

# The limits that need what the scope did so far (a store read).
_USAGE_LIMITS = (
    "daily_buy_notional",
    "daily_sell_notional",
    "max_open_orders",
    "max_orders_per_minute",
    "duplicate_window_s",
)
_POSITION_LIMITS = ("max_position_quantity", "max_position_equity_pct")


@dataclass(frozen=True)
class TradeLimits:
    """The limits one trade answers to: its trader's and its account's."""

    trader: RiskLimits
    account: RiskLimits

    account_name: str

    @classmethod
    def of(cls, desk: DeskLimits, trade: TradeRequest, account: str) -> TradeLimits:
        """`account`: the one the trade is in (TradingPolicy.account_of)."""
        return cls(
            trader=desk.for_user(trade.user_id), account=desk.for_account(account), account_name=account
        )

    def any_set(self, names: tuple[str, ...]) -> bool:
        return any(
            getattr(scope, name) is not None for scope in (self.trader, self.account) for name in names
        )

    @property
    def needs_position(self) -> bool:
        return self.any_set(_POSITION_LIMITS)

    @property
    def needs_quote(self) -> bool:
        return self.any_set(("price_collar_pct",))


async def limit_refusals(
    trade: TradeRequest,
    limits: TradeLimits,
    store: TradeStore,
    *,
    now: datetime,
    position: Position | None,
    market: MarketConditions | None,
    quote: Decimal | None,
) -> list[Rejection]:
    """Every limit the trade breaks, the trader's first, then the account's."""
    price = trade.limit_price or trade.stop_price or quote
    exposure = Exposure(
        cost=trade.cost_at(price),
        held=position.quantity if position else Decimal(0),
        price=price,
        equity=market.equity if market else None,
    )
    reasons = []
    for scope, whose, read in (
        (limits.trader, "your", trader_usage),
        (
            limits.account,
            f"the {limits.account_name} account's",
            account_usage,
        ),
    ):
        if scope == RiskLimits(updated_by=scope.updated_by, updated_at=scope.updated_at):
            continue  # nothing set in this scope
        uses = any(getattr(scope, name) is not None for name in _USAGE_LIMITS)
        usage = await read(store, trade, now) if uses else Usage()
        reasons += limit_reasons(trade, scope, usage, exposure, whose=whose, quote=quote)
    return reasons
