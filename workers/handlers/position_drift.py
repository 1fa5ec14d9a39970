"""tradeflow's positions beside the account's at Alpaca: `tradeflow positions reconcile`, `tradeflow
health`, and the sweeper's look every sweep.

Each Alpaca account's position in a symbol is the sum of the traders' positions held in that account (a
desk of several accounts compares each apart, its rows named `SYMBOL@account`). A drift means an order
placed outside tradeflow, a fill tradeflow never recorded, or a position moved twice. A trade between its
fill at Alpaca and its position update drifts for a moment too: the sweeper names only a drift it saw in
two sweeps running (`lasting`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from brokers.port import StockBroker
from messages.records import Position

ZERO = Decimal(0)


@dataclass(frozen=True)
class SymbolShares:
    symbol: str
    tradeflow: Decimal
    alpaca: Decimal

    @property
    def drift(self) -> Decimal:
        """Alpaca's shares − tradeflow's."""
        return self.alpaca - self.tradeflow

    @property
    def mark(self) -> str:
        """The drift as the sweeper carries it from one sweep to the next: SYMBOL:DRIFT."""
        return f"{self.symbol}:{shares_text(self.drift)}"


def compare(positions: Iterable[Position], held: Mapping[str, Decimal]) -> list[SymbolShares]:
    """Both sides per symbol, sorted by symbol, for every symbol either side holds or held."""
    ours: dict[str, Decimal] = {}
    for position in positions:
        ours[position.symbol] = ours.get(position.symbol, ZERO) + position.quantity
    return [SymbolShares(s, ours.get(s, ZERO), held.get(s, ZERO)) for s in sorted({*ours, *held})]


def drifting(rows: Iterable[SymbolShares]) -> list[SymbolShares]:
    return [row for row in rows if row.drift]


def lasting(previous: Iterable[str], now: Iterable[SymbolShares]) -> list[SymbolShares]:
    """The drifts seen now that the last sweep saw too, by the same number of shares."""
    seen = set(previous)
    return [row for row in now if row.mark in seen]


def shares_text(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f") if quantity else "0"


async def compare_accounts(broker: StockBroker, positions: list[Position]) -> list[SymbolShares] | None:
    """`compare` for every account the stock broker trades in, each against its own positions; None when
    it keeps no account (the simulation)."""
    accounts: dict[str, StockBroker] | None = getattr(broker, "brokers", None)
    if accounts is None:
        held = await broker.account_positions()
        return None if held is None else compare(positions, held)
    default, rows = next(iter(accounts)), []
    for name, account in accounts.items():
        held = await account.account_positions()
        if held is None:
            return None
        theirs = [p for p in positions if (p.account or default) == name]
        rows += [SymbolShares(f"{r.symbol}@{name}", r.tradeflow, r.alpaca) for r in compare(theirs, held)]
    return rows
