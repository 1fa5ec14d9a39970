"""Where a position is kept: by trader and by symbol, the symbol qualified by its account.

The positions table's key is (user_id, symbol), as it was before a desk had several accounts; a position
in a named account is kept under `SYMBOL@account` and read back as the symbol and its account, so a desk
of one account (positions with no account) keeps its keys unchanged and no table is rebuilt.
"""

from __future__ import annotations

import msgspec

from messages.records import Position

SEPARATOR = "@"


def stored_symbol(symbol: str, account: str | None) -> str:
    return symbol if account is None else f"{symbol}{SEPARATOR}{account}"


def to_stored(position: Position) -> Position:
    """The position as kept: its symbol qualified by its account."""
    return msgspec.structs.replace(position, symbol=stored_symbol(position.symbol, position.account))


def from_stored(position: Position) -> Position:
    """The position as read: the symbol and the account apart again."""
    symbol, _, account = position.symbol.partition(SEPARATOR)
    return msgspec.structs.replace(position, symbol=symbol, account=account or position.account)
