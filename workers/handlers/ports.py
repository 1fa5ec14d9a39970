"""The Notifier port, kept beside the handlers (never inside slack/), so dependencies point down."""

from __future__ import annotations

from typing import Protocol

from messages.events import PositionUpdated, TradeFailed, TradeRejected, TradeWorking
from messages.records import Role

# What a trader is told about: the final outcome, or that the order is working at the stock broker.
Outcome = PositionUpdated | TradeFailed | TradeRejected | TradeWorking


class NotifierUnavailable(Exception):
    """The notification channel could not be reached: transient, worth a retry."""


def notice_of(outcome: Outcome) -> str:
    """Which of a trade's two notices this is: "working" (the order rests), or the "outcome"."""
    return "working" if isinstance(outcome, TradeWorking) else "outcome"


class Notifier(Protocol):
    """Tells the trader how their trade ended, in the seed's success and failure messages."""

    name: str

    async def notify(self, outcome: Outcome) -> None: ...

    async def already_told(self, outcome: Outcome) -> bool:
        """Whether this notice (see `notice_of`) already reached the trader; asked after a holder died."""
        ...

    async def close(self) -> None: ...


class RoleReader(Protocol):
    """Who holds which role: the handlers ask, the store (through a cache) answers."""

    async def has_role(self, user_id: str, *roles: Role) -> bool:
        """True when the user holds any of `roles`."""
        ...
