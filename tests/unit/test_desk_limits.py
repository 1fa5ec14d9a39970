"""`tradeflow limits`: each limit typed as an operator types it, checked against its bounds and scope; set and
cleared per scope with each change's old and new value journaled in the same write, again on a conflict."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest

from messages.limits import LIMIT_NAMES, DeskLimits, RiskLimits
from messages.records import ActivityEvent
from tests.unit.fakes import NOW
from tests.unit.test_console import tradeflow
from workers.access.desk_controls import update_limits
from workers.access.journal import Journal
from workers.console.args import build_parser
from workers.console.common import EXIT_REFUSED, EXIT_USAGE
from workers.console.limits.bounds import BadLimit, Value, limit_named, limit_value
from workers.console.limits.changes import LimitChange, Scope, clear_limits, set_limits
from workers.console.limits.commands import names_to_clear, scope_of, typed_values
from workers.console.limits.render import change_document, limits_document, render_change, render_limits
from workers.settings import load_settings
from workers.store.memory.store import MemoryTradeStore

SETTINGS = load_settings(
    {
        "TRADEFLOW_STORE": "memory",
        "TRADEFLOW_ALPACA_ACCOUNTS": "growth",
        "ALPACA_GROWTH_API_KEY": "PKTESTGROWTH0000",
        "ALPACA_GROWTH_SECRET_KEY": "growth-secret-for-tests-only",
    }
)
DESK, U1, GROWTH = Scope("desk"), Scope("user", "U1"), Scope("account", "growth")


def parsed(*argv: str) -> tuple[Scope, dict[str, Decimal | int]]:
    args = build_parser().parse_args(["limits", *argv])
    scope = scope_of(args, SETTINGS)
    return scope, typed_values(args, scope)


def test_every_limit_has_its_option_typed_as_its_unit() -> None:
    options = [f"--{name.replace('_', '-')}" for name in LIMIT_NAMES if name != "approval_notional"]
    argv = [word for option in options for word in (option, "7")]
    scope, values = parsed("set", "--user", "U1", *argv)
    assert scope == U1 and set(values) == set(LIMIT_NAMES) - {"approval_notional"}
    assert values["max_open_orders"] == 7 and isinstance(values["max_open_orders"], int)
    assert values["daily_buy_notional"] == Decimal(7) and isinstance(values["daily_buy_notional"], Decimal)


@pytest.mark.parametrize(
    ("name", "typed", "says"),
    [
        ("daily_buy_notional", "0", "--daily-buy-notional must be greater than 0"),
        ("daily_sell_notional", "-5", "must be greater than 0"),
        ("day_loss_halt", "NaN", "must be a finite number"),
        ("daily_buy_notional", "1e13", "must be at most 999,999,999,999.99 dollars"),
        ("daily_buy_notional", "fifty", "--daily-buy-notional must be a number of dollars"),
        ("max_position_quantity", "0.0000000001", "9 after it"),
        ("max_position_equity_pct", "100.5", "must be at most 100 percent"),
        ("price_collar_pct", "250", "must be at most 100 percent"),
        ("max_open_orders", "100001", "--max-open-orders must be at most 100,000, got 100001"),
        ("max_open_orders", "0", "must be greater than 0"),
        ("max_open_orders", "5.5", "--max-open-orders must be a whole number, got 5.5"),
        ("max_orders_per_minute", "9" * 5000, "must be at most 100,000"),
        ("duplicate_window_s", "86401", "must be at most 86,400 seconds"),
        ("duplicate_window_s", "-1", "must be a whole number of seconds"),
    ],
)
def test_a_value_out_of_its_bounds_is_refused_naming_the_option(name: str, typed: str, says: str) -> None:
    with pytest.raises(BadLimit, match=says.replace("(", r"\(").replace(".", r"\.")):
        limit_value(name, typed, "desk")


def test_sane_values_are_taken_exactly() -> None:
    assert limit_value("daily_buy_notional", "50,000.50", "desk") == Decimal("50000.50")
    assert limit_value("price_collar_pct", "2.5", "account") == Decimal("2.5")
    assert limit_value("duplicate_window_s", "86400", "user") == 86_400
    assert limit_value("day_loss_halt", "2500", "user") == Decimal(2500)  # a trader may be halted alone


def test_an_approval_threshold_is_per_desk_or_account_never_per_trader() -> None:
    assert limit_value("approval_notional", "100000", "account") == Decimal(100_000)
    with pytest.raises(BadLimit, match="set per desk or per account, not per trader"):
        parsed("set", "--user", "U1", "--approval-notional", "100000")


def test_a_scope_is_one_known_account_or_a_user_id_and_a_set_names_a_limit() -> None:
    with pytest.raises(BadLimit, match=r"no Alpaca account named 'value' \(known: main, growth\)"):
        parsed("set", "--account", "value", "--max-open-orders", "5")
    with pytest.raises(BadLimit, match="is not a Slack user id"):
        parsed("set", "--user", "U 1", "--max-open-orders", "5")
    with pytest.raises(BadLimit, match="give at least one limit to set"):
        parsed("set", "--desk")
    with pytest.raises(SystemExit):  # argparse: one scope, exactly
        build_parser().parse_args(["limits", "set", "--desk", "--user", "U1", "--max-open-orders", "5"])


def test_clear_takes_limit_names_in_either_spelling_or_all() -> None:
    def names(*argv: str) -> list[str] | None:
        return names_to_clear(build_parser().parse_args(["limits", "clear", "--desk", *argv]))

    assert names("max-open-orders", "daily_buy_notional") == ["max_open_orders", "daily_buy_notional"]
    assert names("--all") is None
    for argv, says in [((), "name the limits to clear"), (("--all", "max-open-orders"), "not both")]:
        with pytest.raises(BadLimit, match=says):
            names(*argv)
    with pytest.raises(BadLimit, match="no limit named 'max-orders'"):
        limit_named("max-orders")


def test_a_set_names_each_limit_that_changed_with_its_old_and_new_value() -> None:
    first, changes = set_limits(DeskLimits(), U1, {"max_open_orders": 5}, by="OPS1", at=NOW)
    assert changes == [{"limit": "max_open_orders", "old": None, "new": 5}]
    values: dict[str, Value] = {"max_open_orders": 3, "daily_buy_notional": Decimal(50_000)}
    later = NOW + timedelta(minutes=1)
    second, changes = set_limits(first, U1, values, by="OPS2", at=later)
    assert changes == [
        {"limit": "daily_buy_notional", "old": None, "new": Decimal(50_000)},
        {"limit": "max_open_orders", "old": 5, "new": 3},
    ]
    assert second.users["U1"] == RiskLimits(
        max_open_orders=3, daily_buy_notional=Decimal(50_000), updated_by="OPS2", updated_at=later
    )
    again, changes = set_limits(second, U1, values, by="OPS3", at=later)
    assert again is second and changes == []  # nothing to write


def test_clearing_a_scopes_last_limit_drops_the_scope_but_never_the_desk() -> None:
    desk, _ = set_limits(DeskLimits(), DESK, {"max_open_orders": 5}, by="OPS1", at=NOW)
    desk, _ = set_limits(
        desk, GROWTH, {"max_open_orders": 50, "price_collar_pct": Decimal(5)}, by="O", at=NOW
    )
    desk, changes = clear_limits(desk, GROWTH, ["max_open_orders"], by="OPS1", at=NOW)
    assert changes == [{"limit": "max_open_orders", "old": 50, "new": None}]
    assert desk.accounts["growth"].price_collar_pct == Decimal(5)
    desk, changes = clear_limits(desk, GROWTH, None, by="OPS1", at=NOW)
    assert [c["limit"] for c in changes] == ["price_collar_pct"] and desk.accounts == {}
    desk, changes = clear_limits(desk, DESK, None, by="OPS1", at=NOW)
    assert changes == [{"limit": "max_open_orders", "old": 5, "new": None}]
    assert desk.desk.max_open_orders is None and desk.desk.updated_by == "OPS1"
    unchanged, changes = clear_limits(desk, U1, None, by="OPS1", at=NOW)
    assert unchanged is desk and changes == []


async def test_a_change_is_written_with_its_journal_entry_naming_who_the_scope_and_each_value() -> None:
    store = MemoryTradeStore()
    await _set(store, _journal(store), U1, {"max_open_orders": 5}, by="OPS1")
    later = Journal(
        store, SETTINGS.tradeflow_audit_retention_days, clock=lambda: NOW + timedelta(milliseconds=1)
    )
    await _set(store, later, U1, {"max_open_orders": 3, "duplicate_window_s": 30}, by="OPS2")

    entries = await store.list_activity("ops", NOW, NOW + timedelta(seconds=1))
    assert [(e.event_type, e.actor, e.details["scope"], e.details["user_id"]) for e in entries] == [
        ("limits_set", "OPS1", "user", "U1"),
        ("limits_set", "OPS2", "user", "U1"),
    ]
    assert entries[1].details["changes"] == [
        {"limit": "max_open_orders", "old": 5, "new": 3},
        {"limit": "duplicate_window_s", "old": None, "new": 30},
    ]
    stored = await store.get_limits()
    assert stored.version == 2 and stored.for_user("U1").max_open_orders == 3


async def test_a_change_made_while_another_operator_wrote_is_made_again_on_theirs() -> None:
    store = RacedOnce(DeskLimits(desk=RiskLimits(daily_buy_notional=Decimal(75_000))))
    changes = await _set(store, _journal(store), DESK, {"max_open_orders": 5}, by="OPS1")

    stored = await store.get_limits()
    assert stored.version == 2 and stored.desk.daily_buy_notional == Decimal(75_000)  # theirs kept
    assert stored.desk.max_open_orders == 5 and changes == [
        {"limit": "max_open_orders", "old": None, "new": 5}
    ]
    [entry] = await store.list_activity("ops", NOW, NOW + timedelta(seconds=1))  # one entry: the one written
    assert entry.details["changes"] == [{"limit": "max_open_orders", "old": None, "new": 5}]


def test_show_lists_every_scope_and_a_traders_limits_in_effect_with_decimals_as_strings() -> None:
    desk, _ = set_limits(
        DeskLimits(), DESK, {"max_open_orders": 5, "daily_buy_notional": Decimal(50_000)}, by="O", at=NOW
    )
    desk, _ = set_limits(desk, U1, {"max_open_orders": 2}, by="OPS1", at=NOW)
    desk, _ = set_limits(desk, GROWTH, {"approval_notional": Decimal("250000.50")}, by="OPS1", at=NOW)

    every = json.loads(json.dumps(limits_document(desk)))
    assert every["desk"]["daily_buy_notional"] == "50000" and every["desk"]["max_open_orders"] == 5
    assert every["users"]["U1"]["max_open_orders"] == 2
    assert every["accounts"]["growth"]["approval_notional"] == "250000.50"
    trader = limits_document(desk, user_id="U1")
    assert trader["effective"] == {"daily_buy_notional": "50000", "max_open_orders": 2}
    text = render_limits(trader)
    assert "In effect" in text and "$50,000" in text
    assert "Account growth:" in render_limits(every)
    assert render_limits(limits_document(DeskLimits())) == "No limits are set."


def test_a_change_reads_as_old_to_new_in_the_scopes_own_words() -> None:
    changes: list[LimitChange] = [
        {"limit": "daily_buy_notional", "old": Decimal(50_000), "new": Decimal("60000.5")},
        {"limit": "price_collar_pct", "old": None, "new": Decimal(2)},
    ]
    desk, _ = set_limits(DeskLimits(), GROWTH, {"price_collar_pct": Decimal(2)}, by="OPS1", at=NOW)
    doc = change_document("set", GROWTH, "OPS1", changes, desk, 4)
    assert json.loads(json.dumps(doc))["changes"][0] == {
        "limit": "daily_buy_notional",
        "old": "50000",
        "new": "60000.5",
    }
    assert render_change(doc) == (
        "Limits of account growth changed by OPS1:\n"
        "  daily buy notional: $50,000 -> $60,000.5\n"
        "  price collar: (not set) -> 2%"
    )


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("set", "--desk", "--price-collar-pct", "101"), "--price-collar-pct must be at most 100 percent"),
        (("set", "--user", "U1", "--approval-notional", "5"), "not per trader"),
        (("set", "--account", "nope", "--max-open-orders", "5"), "no Alpaca account named 'nope'"),
        (("clear", "--desk"), "name the limits to clear"),
    ],
)
def test_the_command_refuses_bad_input_with_exit_2_before_it_opens_the_store(
    argv: tuple[str, ...], says: str
) -> None:
    result = _tradeflow("limits", *argv, "--as", "OPS1")
    assert result.returncode == EXIT_USAGE
    assert says in result.stderr and "nothing was changed" in result.stderr
    assert result.stdout == ""


def test_only_an_operator_may_change_limits() -> None:
    result = _tradeflow("limits", "set", "--desk", "--max-open-orders", "5", "--as", "U123")
    assert result.returncode == EXIT_REFUSED
    assert "does not have the operator role" in result.stderr


async def _set(
    store: MemoryTradeStore, journal: Journal, scope: Scope, values: dict[str, Decimal | int], *, by: str
) -> list[LimitChange]:
    def change(current: DeskLimits) -> tuple[DeskLimits, list[LimitChange]]:
        return set_limits(current, scope, values, by=by, at=NOW)

    def entry(changes: list[LimitChange]) -> ActivityEvent:
        return journal.entry("ops", "limits_set", by, **scope.details(), changes=changes)

    return await update_limits(store, change, entry)


def _journal(store: MemoryTradeStore) -> Journal:
    return Journal(store, SETTINGS.tradeflow_audit_retention_days, clock=lambda: NOW)


class RacedOnce(MemoryTradeStore):
    """Another operator's write lands between the first read and its write."""

    def __init__(self, theirs: DeskLimits) -> None:
        super().__init__()
        self.theirs: DeskLimits | None = theirs

    async def put_limits(
        self, limits: DeskLimits, expected_version: int, activity: ActivityEvent | None = None
    ) -> bool:
        if self.theirs is not None:
            theirs, self.theirs = self.theirs, None
            assert await super().put_limits(theirs, expected_version)
        return await super().put_limits(limits, expected_version, activity)


def _tradeflow(*args: str) -> subprocess.CompletedProcess[str]:
    """`tradeflow` in a process of its own, on the in-memory store."""
    return tradeflow(*args, env={"TRADEFLOW_STORE": "memory", "ALPACA_PAPER_ENABLED": "false"})
