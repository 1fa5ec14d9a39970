"""Alert preferences: addresses checked where they are typed (the CLI, /trade notify), a trader's choice read
and changed from Slack with its journal entry, and the desk's set by operators; bad input changes nothing."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest

from messages.alerts import AlertChoice, AlertPreferences
from messages.records import ActivityEvent
from tests.unit.fakes import NOW
from tests.unit.test_console import tradeflow
from workers.access.alert_choices import (
    BadAlertChoice,
    checked_email,
    checked_kinds,
    checked_min_notional,
    checked_phone,
)
from workers.access.journal import Journal
from workers.console.alert_prefs.commands import desk_document, render_desk, typed_choice
from workers.console.args import build_parser
from workers.console.common import EXIT_USAGE
from workers.settings import load_settings
from workers.slack.notify_command import (
    UNAVAILABLE,
    UNCONFIRMED,
    BadNotify,
    NotifyRequest,
    apply_notify,
    parse_notify,
)
from workers.store.memory.store import MemoryTradeStore
from workers.store.port import StoreUnavailable

RETENTION_DAYS = load_settings({}).tradeflow_audit_retention_days
WINDOW = (NOW - timedelta(seconds=1), NOW + timedelta(seconds=1))


@pytest.mark.parametrize("good", ["ops@example.com", "first.last+alerts@desk.example.co.uk", "a@b.io"])
def test_an_email_address_looks_like_local_at_domain_dot_tld(good: str) -> None:
    assert checked_email(f" {good} ") == good


@pytest.mark.parametrize(
    "bad", ["ops", "ops@example", "@example.com", "a b@example.com", "a@@b.com", "a..b@c.com"]
)
def test_anything_else_is_not_an_email_address(bad: str) -> None:
    with pytest.raises(BadAlertChoice, match="is not an email address"):
        checked_email(bad)


def test_a_phone_number_is_e164_and_its_punctuation_is_dropped() -> None:
    assert checked_phone("+15551234567") == "+15551234567"
    assert checked_phone("+1 (555) 123-4567") == "+15551234567"
    assert checked_phone("+44 20 7946 0958") == "+442079460958"
    for bad in ["15551234567", "+1555", "+1234567890123456", "+0551234567", "+1555123456x"]:
        with pytest.raises(BadAlertChoice, match=r"E\.164"):
            checked_phone(bad)


def test_events_are_named_from_the_kinds_in_their_own_order() -> None:
    assert checked_kinds("halt, large-trade") == ("large_trade", "halt")
    assert checked_kinds("drift halt halt") == ("halt", "drift")
    assert checked_kinds("all", ("large_trade", "halt")) == ("large_trade", "halt")
    with pytest.raises(BadAlertChoice, match="no event named 'fills'"):
        checked_kinds("halt,fills")
    with pytest.raises(BadAlertChoice, match="no event named 'drift'"):
        checked_kinds("drift", ("large_trade", "halt"))
    with pytest.raises(BadAlertChoice, match="name at least one event"):
        checked_kinds(" , ")


def test_a_notional_floor_is_a_positive_amount() -> None:
    assert checked_min_notional("$25,000") == Decimal(25_000)
    for bad, says in [("0", "greater than 0"), ("lots", "not a dollar amount"), ("1e15", "12 digits")]:
        with pytest.raises(BadAlertChoice, match=says):
            checked_min_notional(bad)


@pytest.mark.parametrize(
    ("text", "request_"),
    [
        ("", NotifyRequest("show")),
        ("notify", NotifyRequest("show")),
        ("notify email me@x.com", NotifyRequest("email", "me@x.com")),
        ("email <mailto:me@x.com|me@x.com>", NotifyRequest("email", "me@x.com")),  # as Slack links it
        ("sms <tel:+15551234567|+1 555 123 4567>", NotifyRequest("sms", "+15551234567")),
        ("phone +1 555 123 4567", NotifyRequest("sms", "+15551234567")),
        (
            "events large_trade,halt approval_waiting",
            NotifyRequest("events", ("large_trade", "approval_waiting", "halt")),
        ),
        ("events off", NotifyRequest("events", ())),
        ("above $25,000", NotifyRequest("above", Decimal(25_000))),
        ("above off", NotifyRequest("above", None)),
        ("email off", NotifyRequest("email", None)),
        ("OFF", NotifyRequest("off")),
    ],
)
def test_notify_text_is_read_as_one_request(text: str, request_: NotifyRequest) -> None:
    assert parse_notify(text) == request_


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("email me@", "is not an email address"),
        ("sms 5551234567", "E.164"),
        ("events drift", "No event named 'drift'"),  # the operators' business
        ("above -5", "greater than 0"),
        ("email", "I didn't understand that"),
        ("subscribe", "I didn't understand that"),
    ],
)
def test_bad_notify_text_says_what_would_do(text: str, says: str) -> None:
    with pytest.raises(BadNotify, match=says.replace(".", r"\.")):
        parse_notify(text)


async def test_a_trader_builds_their_choice_step_by_step_each_step_journaled() -> None:
    store = MemoryTradeStore()
    answer = await _notify(store, "")
    assert answer.startswith("You get no alerts outside Slack")

    answer = await _notify(store, "email <mailto:me@x.com|me@x.com>")
    assert (
        answer.startswith("Saved.") and "• Email: me@x.com" in answer and "Choose what to hear of" in answer
    )
    await _notify(store, "events large_trade,halt")
    answer = await _notify(store, "above 25000")
    assert "large trades (above $25,000), trading halts" in answer and "Choose" not in answer

    stored = (await store.get_alert_preferences()).users["U1"]
    assert stored == AlertChoice(
        kinds=("large_trade", "halt"),
        email="me@x.com",
        min_notional=Decimal(25_000),
        updated_by="U1",
        updated_at=NOW,
    )
    entries = await store.list_activity("session", *WINDOW)
    assert {(e.event_type, e.actor, e.details["user_id"]) for e in entries} == {
        ("alert_preferences_set", "U1", "U1")
    }
    assert sorted(change["field"] for e in entries for change in e.details["changes"]) == [
        "email",
        "kinds",
        "min_notional",
    ]
    assert {"field": "min_notional", "old": None, "new": Decimal(25_000)} in [
        change for e in entries for change in e.details["changes"]
    ]


async def test_the_same_choice_again_writes_nothing_and_off_removes_it() -> None:
    store = MemoryTradeStore()
    await _notify(store, "sms +15551234567")
    assert (await _notify(store, "sms +1 555 123 4567")).startswith("Already so.")
    assert (await store.get_alert_preferences()).version == 1

    answer = await _notify(store, "off")
    assert "You get no alerts outside Slack" in answer
    assert (await store.get_alert_preferences()).users == {}
    entries = await store.list_activity("session", *WINDOW)
    assert sorted(e.event_type for e in entries) == ["alert_preferences_cleared", "alert_preferences_set"]


async def test_bad_text_is_answered_and_nothing_is_written() -> None:
    store = MemoryTradeStore()
    answer = await _notify(store, "sms 555-1234")
    assert "E.164" in answer and "Nothing was changed" in answer
    assert await store.get_alert_preferences() == AlertPreferences()
    assert await store.list_activity("session", *WINDOW) == []


async def test_a_trader_changes_their_own_choice_and_nobody_elses() -> None:
    store = MemoryTradeStore()
    await _notify(store, "email u1@x.com", user_id="U1")
    await _notify(store, "email u2@x.com", user_id="U2")
    await _notify(store, "off", user_id="U2")
    assert set((await store.get_alert_preferences()).users) == {"U1"}


async def test_a_store_that_cannot_answer_is_told_as_such() -> None:
    store = DownStore()
    assert await _notify(store, "") == UNAVAILABLE
    assert await _notify(store, "email me@x.com") == UNCONFIRMED


def test_the_desk_is_set_with_events_and_an_address_checked_before_the_store() -> None:
    def typed(*argv: str) -> AlertChoice:
        return typed_choice(build_parser().parse_args(["alerts", "desk", "set", *argv]))

    choice = typed("--events", "halt,drift", "--email", "ops@x.com", "--phone", "+15551234567")
    assert choice == AlertChoice(kinds=("halt", "drift"), email="ops@x.com", phone="+15551234567")
    assert (
        typed("--events", "all", "--phone", "+15551234567", "--min-notional", "1e5").min_notional == 100_000
    )
    with pytest.raises(BadAlertChoice, match="give --email, --phone or both"):
        typed("--events", "halt")
    with pytest.raises(SystemExit):  # argparse: --events is required
        build_parser().parse_args(["alerts", "desk", "set", "--email", "ops@x.com"])


def test_the_desks_choice_reads_for_people_and_as_json_with_decimals_as_strings() -> None:
    choice = AlertChoice(kinds=("halt",), email="ops@x.com", min_notional=Decimal("50000.5"), updated_by="O")
    doc = desk_document(choice, 3)
    assert json.loads(json.dumps(doc)) == {
        "version": 3,
        "desk": {"kinds": ["halt"], "email": "ops@x.com", "min_notional": "50000.5", "updated_by": "O"},
    }
    assert "by email: ops@x.com" in render_desk(doc)
    assert render_desk(desk_document(AlertChoice(), 0)) == "The desk's operators get no alert outside Slack."


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("--events", "halt", "--email", "ops@"), "is not an email address"),
        (("--events", "halt", "--phone", "555"), "E.164"),
        (("--events", "fills", "--email", "ops@x.com"), "no event named 'fills'"),
    ],
)
def test_the_desk_command_refuses_bad_input_with_exit_2(argv: tuple[str, ...], says: str) -> None:
    result = _tradeflow("alerts", "desk", "set", *argv, "--as", "OPS1")
    assert result.returncode == EXIT_USAGE
    assert says in result.stderr and "nothing was changed" in result.stderr


async def _notify(store: MemoryTradeStore, text: str, *, user_id: str = "U1") -> str:
    return await apply_notify(store, Journal(store, RETENTION_DAYS, clock=lambda: NOW), user_id, text, NOW)


class DownStore(MemoryTradeStore):
    async def get_alert_preferences(self) -> AlertPreferences:
        raise StoreUnavailable("DynamoDB GetItem: throttled")

    async def put_alert_preferences(
        self, preferences: AlertPreferences, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        raise StoreUnavailable("DynamoDB TransactWriteItems: throttled")


def _tradeflow(*args: str) -> subprocess.CompletedProcess[str]:
    """`tradeflow` in a process of its own, on the in-memory store."""
    return tradeflow(*args, env={"TRADEFLOW_STORE": "memory", "ALPACA_PAPER_ENABLED": "false"})
