"""The alerts service: who receives which alert (kinds, the trader's own choice, thresholds), each send
made once under redelivery, a surely-unsent failure retried at once, a send that may be out sent again only
once its lease ran out (at-least-once), a refused address settled, one failing channel holding back no
other."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from messages.alerts import AlertChannel, AlertChoice, AlertKind, AlertPreferences, SendAlert, alert_id_of
from tests.unit.fakes import make_deps
from workers.handlers.alerts import ALERT_LEASE_MS, Delivery, deliveries_of, send_alert
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred
from workers.handlers.ports import AlertRefused, AlertUnavailable
from workers.store.memory.store import MemoryTradeStore

DESK_EMAIL = "desk@example.com"
TRADER_PHONE = "+15551230001"


class Sent:
    """One send as the channel saw it."""

    def __init__(self, channel: AlertChannel, address: str, subject: str, key: str | None) -> None:
        self.channel, self.address, self.subject, self.key = channel, address, subject, key

    def __repr__(self) -> str:
        return f"Sent({self.channel}, {self.address})"


class FakeAlertChannels:
    """Records every send; `failures` scripts the next sends to an address to raise, one per try."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.tries: list[Sent] = []
        self.failures: dict[str, list[Exception]] = {}

    async def send(
        self, channel: AlertChannel, address: str, subject: str, body: str, *, key: str | None = None
    ) -> None:
        attempt = Sent(channel, address, subject, key)
        self.tries.append(attempt)
        pending = self.failures.get(address)
        if pending:
            raise pending.pop(0)
        self.sent.append(attempt)

    async def close(self) -> None:
        return None

    def to(self, address: str) -> list[Sent]:
        return [s for s in self.sent if s.address == address]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def alert(kind: AlertKind = "large_trade", **overrides: object) -> SendAlert:
    values: dict[str, object] = {
        "alert_id": alert_id_of(kind, str(uuid.uuid4())),
        "kind": kind,
        "subject": f"{kind}: AAPL",
        "body": "U123 bought 1,000 AAPL for $190,000",
        "at": datetime(2026, 11, 25, 14, 30, tzinfo=UTC),
        "user_id": "U123",
        "notional": Decimal(190_000),
    }
    values.update(overrides)
    return SendAlert(**values)  # type: ignore[arg-type]


async def deps_with(preferences: AlertPreferences) -> tuple[Deps, FakeAlertChannels, Clock]:
    store = MemoryTradeStore()
    assert await store.put_alert_preferences(preferences, 0)
    channels, clock = FakeAlertChannels(), Clock()
    return make_deps(store=store, alerts=channels, clock=clock), channels, clock


DESK = AlertChoice(kinds=("large_trade", "halt"), email=DESK_EMAIL)
TRADER = AlertChoice(kinds=("large_trade",), email="u123@example.com", phone=TRADER_PHONE)


def test_the_desk_and_the_trader_the_alert_concerns_each_get_what_they_chose() -> None:
    preferences = AlertPreferences(desk=DESK, users={"U123": TRADER, "U456": TRADER})
    assert deliveries_of(alert(), preferences) == (
        Delivery("email", DESK_EMAIL),
        Delivery("email", "u123@example.com"),
        Delivery("sms", TRADER_PHONE),
    )
    # A halt: the desk chose it, the trader did not.
    assert deliveries_of(alert("halt"), preferences) == (Delivery("email", DESK_EMAIL),)
    # Another trader's large trade reaches the desk, not U123.
    assert deliveries_of(alert(user_id="U789"), preferences) == (Delivery("email", DESK_EMAIL),)
    # A kind nobody chose reaches nobody.
    assert deliveries_of(alert("drift"), preferences) == ()


def test_a_large_trade_below_a_recipients_threshold_skips_that_recipient_only() -> None:
    desk = AlertChoice(kinds=("large_trade",), email=DESK_EMAIL, min_notional=Decimal(250_000))
    trader = AlertChoice(kinds=("large_trade",), phone=TRADER_PHONE, min_notional=Decimal(100_000))
    preferences = AlertPreferences(desk=desk, users={"U123": trader})
    assert deliveries_of(alert(notional=Decimal(190_000)), preferences) == (Delivery("sms", TRADER_PHONE),)
    assert deliveries_of(alert(notional=Decimal(250_000)), preferences) == (
        Delivery("email", DESK_EMAIL),
        Delivery("sms", TRADER_PHONE),
    )
    assert deliveries_of(alert(notional=Decimal(99_999)), preferences) == ()
    # A threshold is about large trades: a halt is never below it.
    halting = AlertChoice(kinds=("halt",), email=DESK_EMAIL, min_notional=Decimal(10**9))
    assert deliveries_of(alert("halt"), AlertPreferences(desk=halting)) == (Delivery("email", DESK_EMAIL),)


def test_an_address_both_the_desk_and_the_trader_chose_gets_one_send() -> None:
    trader = AlertChoice(kinds=("large_trade",), email=DESK_EMAIL.upper())
    preferences = AlertPreferences(desk=DESK, users={"U123": trader})
    assert deliveries_of(alert(), preferences) == (Delivery("email", DESK_EMAIL),)


async def test_each_recipient_gets_the_alert_once_however_often_it_is_delivered() -> None:
    deps, channels, _ = await deps_with(AlertPreferences(desk=DESK, users={"U123": TRADER}))
    message = alert()
    for _ in range(3):  # a redelivery, and another worker seeing the same cause
        await send_alert(message, deps)
    assert [(s.channel, s.address) for s in channels.sent] == [
        ("email", DESK_EMAIL),
        ("email", "u123@example.com"),
        ("sms", TRADER_PHONE),
    ]
    # A new alert of the same kind is a send of its own.
    await send_alert(alert(), deps)
    assert len(channels.to(DESK_EMAIL)) == 2


async def test_a_send_that_surely_failed_frees_its_lease_and_the_retry_sends_at_once() -> None:
    deps, channels, _ = await deps_with(AlertPreferences(desk=DESK))
    channels.failures[DESK_EMAIL] = [AlertUnavailable("connection refused", surely_unsent=True)]
    message = alert()
    with pytest.raises(AlertUnavailable):
        await send_alert(message, deps)
    await send_alert(message, deps)  # no Deferred: the lease was given back
    assert len(channels.to(DESK_EMAIL)) == 1
    await send_alert(message, deps)
    assert len(channels.tries) == 2  # the failed try and the send; the third delivery tried nothing


async def test_a_send_that_may_be_out_keeps_its_lease_and_is_sent_again_once_it_runs_out() -> None:
    """At-least-once, as workers/handlers/alerts.py chooses: SMTP and SNS cannot be asked what they got."""
    deps, channels, clock = await deps_with(AlertPreferences(desk=DESK))
    channels.failures[DESK_EMAIL] = [AlertUnavailable("no 250 after the content")]  # may be out
    message = alert()
    with pytest.raises(AlertUnavailable):
        await send_alert(message, deps)
    with pytest.raises(Deferred):  # the send may still be landing: nobody sends while its lease runs
        await send_alert(message, deps)
    assert channels.tries and len(channels.tries) == 1
    clock.now += timedelta(milliseconds=ALERT_LEASE_MS + 1)
    await send_alert(message, deps)  # taken over: sent again, with the same key (one Message-ID)
    assert len(channels.to(DESK_EMAIL)) == 1
    first, second = channels.tries
    assert first.key == second.key is not None


async def test_another_delivery_holding_a_send_defers_this_one_without_sending() -> None:
    deps, channels, clock = await deps_with(AlertPreferences(desk=DESK))
    message = alert()
    now_ms = int(clock().timestamp() * 1000)
    marker = Delivery("email", DESK_EMAIL).marker(message)
    assert await deps.store.claim_lease(marker, now_ms=now_ms, lease_ms=ALERT_LEASE_MS)
    with pytest.raises(Deferred):
        await send_alert(message, deps)
    assert channels.tries == []


async def test_one_failing_channel_holds_back_no_other_and_its_retry_sends_only_it() -> None:
    deps, channels, _ = await deps_with(AlertPreferences(desk=DESK, users={"U123": TRADER}))
    channels.failures[TRADER_PHONE] = [AlertUnavailable("SNS throttled", surely_unsent=True)]
    message = alert()
    with pytest.raises(AlertUnavailable, match="throttled"):
        await send_alert(message, deps)
    assert {s.address for s in channels.sent} == {DESK_EMAIL, "u123@example.com"}
    await send_alert(message, deps)
    assert [s.address for s in channels.sent] == [DESK_EMAIL, "u123@example.com", TRADER_PHONE]


async def test_a_refused_address_is_settled_not_retried_and_the_others_are_sent() -> None:
    deps, channels, _ = await deps_with(AlertPreferences(desk=DESK, users={"U123": TRADER}))
    channels.failures["u123@example.com"] = [AlertRefused("550 no such mailbox")]
    message = alert()
    await send_alert(message, deps)  # no exception: nothing a retry could mend
    await send_alert(message, deps)
    assert [s.address for s in channels.tries].count("u123@example.com") == 1
    assert {s.address for s in channels.sent} == {DESK_EMAIL, TRADER_PHONE}


async def test_without_alert_channels_nothing_is_sent_and_nothing_marked() -> None:
    store = MemoryTradeStore()
    assert await store.put_alert_preferences(AlertPreferences(desk=DESK), 0)
    message = alert()
    await send_alert(message, make_deps(store=store, alerts=None))
    assert not await store.is_done(Delivery("email", DESK_EMAIL).marker(message))


async def test_the_send_key_names_the_alert_and_the_address() -> None:
    deps, channels, _ = await deps_with(AlertPreferences(desk=DESK, users={"U123": TRADER}))
    message = alert()
    await send_alert(message, deps)
    keys = [s.key for s in channels.sent]
    assert len(set(keys)) == 3 and all(k is not None and str(message.alert_id) in k for k in keys)


def test_an_approval_waiting_reaches_the_approvers_who_chose_it_never_the_trader() -> None:
    waiting = AlertChoice(kinds=("approval_waiting",), phone=TRADER_PHONE)
    approver = AlertChoice(kinds=("approval_waiting",), email="approver@example.com")
    preferences = AlertPreferences(users={"U123": waiting, "UAPP": approver, "UOTHER": approver})
    assert deliveries_of(alert("approval_waiting"), preferences, approvers={"UAPP", "U123"}) == (
        Delivery("sms", TRADER_PHONE),  # the trader chose to hear their own trade waits
        Delivery("email", "approver@example.com"),
    )
    assert deliveries_of(alert("approval_waiting"), preferences) == (Delivery("sms", TRADER_PHONE),)
