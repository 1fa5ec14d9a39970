"""The Notifier port, kept beside the handlers (never inside slack/), so dependencies point down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from messages.alerts import AlertChannel
from messages.events import (
    ApprovalDecided,
    ApprovalRequested,
    CancelRefused,
    PositionUpdated,
    TradeFailed,
    TradeHeld,
    TradeRejected,
    TradeWorking,
)
from messages.records import Role

# What a trader is told about: the final outcome, that the order is working at the stock broker, or that
# the trade is held before it was recorded (delayed by an outage, or not executed), or that their cancel
# came too late.
Outcome = PositionUpdated | TradeFailed | TradeRejected | TradeWorking | TradeHeld | CancelRefused
# Every notice a trader gets: an outcome, or that their trade waits for an approver, or was approved.
Notice = Outcome | ApprovalRequested | ApprovalDecided


@dataclass(frozen=True)
class ApprovalPost:
    """Where a trade's approval request was posted for the approvers (a Slack channel and message ts)."""

    channel: str
    ts: str


class NotifierUnavailable(Exception):
    """The notification channel could not be reached or did not answer: transient, worth a retry.

    `surely_unsent` is True only when the channel refused the notice before acting on it (no connection
    was made, rate limited): it may be sent again at once. Otherwise the notice may have reached the trader
    (a timeout, a dropped connection or a 5xx after the request left), and the next attempt must read the
    channel before sending again.
    """

    def __init__(self, message: str, *, surely_unsent: bool = False) -> None:
        super().__init__(message)
        self.surely_unsent = surely_unsent


class NoticeRefused(Exception):
    """The channel refused the notice and acted on nothing (a bad token, no such channel): it reached nobody.

    Not transient as such, but retried a bounded number of times like any error (a fixed token lets one
    through), then dead-lettered with the reason.
    """


def surely_unsent(error: BaseException) -> bool:
    """Whether a notifier's failure proves the notice reached nobody (so sending again cannot double it)."""
    return isinstance(error, NoticeRefused) or (
        isinstance(error, NotifierUnavailable) and error.surely_unsent
    )


def notice_of(outcome: Notice) -> str:
    """Which of a trade's notices this is: "approval_waiting", "approved", "working" (the order rests),
    "delayed" or "not_executed" (held before it was recorded), "cancel_refused", or the "outcome"."""
    if isinstance(outcome, ApprovalRequested):
        return "approval_waiting"
    if isinstance(outcome, ApprovalDecided):
        return "approved"
    if isinstance(outcome, TradeHeld):
        return outcome.state
    if isinstance(outcome, CancelRefused):
        return "cancel_refused"
    return "working" if isinstance(outcome, TradeWorking) else "outcome"


class Notifier(Protocol):
    """Tells the trader how their trade ended, in the seed's success and failure messages; and asks the
    approvers to decide a trade that waits for them."""

    name: str

    async def notify(self, outcome: Notice) -> None: ...

    async def already_told(self, outcome: Notice) -> bool:
        """Whether this notice (see `notice_of`) already reached the trader; asked after a holder died."""
        ...

    async def ask_approvers(self, request: ApprovalRequested) -> ApprovalPost:
        """Post the request where the approvers decide (with Approve and Reject); raises as `notify`."""
        ...

    async def find_approval_post(self, request: ApprovalRequested) -> ApprovalPost | None:
        """The request as an earlier attempt posted it, if it did; asked after a holder died."""
        ...

    async def show_decision(self, post: ApprovalPost, decided: ApprovalDecided) -> None:
        """Replace the posted request with its decision (no buttons left); saying it twice is harmless."""
        ...

    async def close(self) -> None: ...


class SharedKeys(Protocol):
    """Keys with expiry that every worker process shares (brokers.shared_state: Redis), still up while the
    store is down. Blocking calls: run them off the event loop."""

    def put_new(self, key: str, value: str, ttl_ms: int) -> bool:
        """Set `key` only if it is absent; True when it was set."""
        ...

    def delete(self, key: str) -> None: ...

    def close(self) -> None: ...


class RoleReader(Protocol):
    """Who holds which role: the handlers ask, the store (through a cache) answers."""

    async def has_role(self, user_id: str, *roles: Role) -> bool:
        """True when the user holds any of `roles`."""
        ...

    async def accounts_of(self, user_id: str) -> tuple[str, ...]:
        """The Alpaca accounts the user trades in, the first their default (empty: the desk's default)."""
        ...


class AlertUnavailable(Exception):
    """An alert channel (SMTP, SNS) could not be reached or did not answer: transient, worth a retry.
    `surely_unsent` as NotifierUnavailable: True only when the alert surely reached nobody."""

    def __init__(self, message: str, *, surely_unsent: bool = False) -> None:
        super().__init__(message)
        self.surely_unsent = surely_unsent


class AlertRefused(Exception):
    """The channel refused this recipient for good (an address it will never take): nothing was sent."""


class AlertChannels(Protocol):
    """Sends one alert outside Slack: an email over SMTP, a text message through Amazon SNS."""

    async def send(
        self, channel: AlertChannel, address: str, subject: str, body: str, *, key: str | None = None
    ) -> None:
        """Send it to `address` (an email address, or an E.164 phone number) on `channel`; raises
        AlertUnavailable or AlertRefused.

        `key` is the same on every try of one alert to one address: an email's Message-ID derives from it,
        so a receiver can drop a second copy (neither SMTP nor SNS takes an idempotency key of its own)."""

    async def close(self) -> None: ...
