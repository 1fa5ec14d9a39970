"""Alerts outside Slack: what happened (the message the alerts service consumes) and who wants to hear it.

An alert is sent once per recipient and channel: its `alert_id` is derived from what caused it (the trade,
the halt, the sweep), so a redelivery or a second worker seeing the same cause makes the same alert.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

AlertKind = Literal["large_trade", "approval_waiting", "halt", "dead_letters", "drift"]
ALERT_KINDS: tuple[AlertKind, ...] = ("large_trade", "approval_waiting", "halt", "dead_letters", "drift")
AlertChannel = Literal["email", "sms"]
ALERT_CHANNELS: tuple[AlertChannel, ...] = ("email", "sms")
ALERT_NAMESPACE = uuid.UUID("8c1f9f7e-2b1d-4d55-9a0e-5b7f5e1c3a42")


def alert_id_of(kind: AlertKind, cause: str) -> uuid.UUID:
    """The one alert a cause makes (uuid5): seen twice, it is the same alert."""
    return uuid.uuid5(ALERT_NAMESPACE, f"{kind}#{cause}")


class SendAlert(msgspec.Struct, tag="SendAlert", tag_field="type", frozen=True, kw_only=True):
    """Send this alert to every recipient who chose its kind: the desk's and, for a trader's own event,
    the trader's (their notional threshold applied to `notional`)."""

    alert_id: uuid.UUID
    kind: AlertKind
    subject: str
    body: str
    at: datetime
    user_id: str | None = None  # the trader it concerns, if any
    account: str | None = None
    notional: Decimal | None = None  # a trade's size, for a recipient's threshold
    trade_id: uuid.UUID | None = None


class AlertChoice(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What reaches one recipient (a trader, or the desk's operators) and where."""

    kinds: tuple[AlertKind, ...] = ()
    email: str | None = None
    phone: str | None = None  # E.164, e.g. +15551234567
    min_notional: Decimal | None = None  # large trades below it are not sent
    updated_by: str = ""
    updated_at: datetime | None = None

    @property
    def channels(self) -> tuple[tuple[AlertChannel, str], ...]:
        pairs: list[tuple[AlertChannel, str]] = []
        if self.email:
            pairs.append(("email", self.email))
        if self.phone:
            pairs.append(("sms", self.phone))
        return tuple(pairs)


class AlertPreferences(msgspec.Struct, frozen=True, kw_only=True):
    """The desk's choice and each trader's, replaced as one item under an optimistic version check."""

    desk: AlertChoice = AlertChoice()
    users: dict[str, AlertChoice] = {}
    version: int = 0
