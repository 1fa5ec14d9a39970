"""Each risk limit's unit and bounds, and a typed value checked against them: one row per RiskLimits field.

A limit is positive and sane: a percent at most 100, dollars below a trillion, a count at most 100,000, a
duplicate window at most a day. Anything else is refused where it is typed, naming the option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from messages.limits import LIMIT_NAMES, LimitScope
from messages.types import amount_problem

Unit = Literal["dollars", "shares", "percent", "count", "seconds"]
Value = Decimal | int
_WHOLE = re.compile(r"[0-9]+")


class BadLimit(ValueError):
    """A limit that cannot be set as typed; the message names the option and what would do."""


@dataclass(frozen=True)
class LimitRule:
    unit: Unit
    maximum: Decimal
    meaning: str
    scopes: tuple[LimitScope, ...] = ("desk", "user", "account")

    @property
    def whole(self) -> bool:
        return self.unit in ("count", "seconds")


MAX_DOLLARS = Decimal("999999999999.99")
RULES: dict[str, LimitRule] = {
    "daily_buy_notional": LimitRule(
        "dollars", MAX_DOLLARS, "dollars bought per trading day (New York), open and executed trades"
    ),
    "daily_sell_notional": LimitRule(
        "dollars", MAX_DOLLARS, "dollars sold per trading day (New York), open and executed trades"
    ),
    "max_open_orders": LimitRule(
        "count", Decimal(100_000), "orders open at once (pending, awaiting approval, working, unknown)"
    ),
    "max_position_quantity": LimitRule(
        "shares", Decimal(1_000_000_000), "shares held in one symbol after a trade, long or short"
    ),
    "max_position_equity_pct": LimitRule(
        "percent", Decimal(100), "one symbol's value after a trade, as a percent of the equity"
    ),
    "max_orders_per_minute": LimitRule("count", Decimal(100_000), "orders submitted per minute"),
    "price_collar_pct": LimitRule(
        "percent", Decimal(100), "how far a limit or stop price may be from the last quote, in percent"
    ),
    "duplicate_window_s": LimitRule(
        "seconds",
        Decimal(86_400),
        "seconds within which the same symbol, side and size again must be confirmed",
    ),
    "day_loss_halt": LimitRule(
        "dollars", MAX_DOLLARS, "a day's loss in dollars that halts trading (only reducing trades go on)"
    ),
    "approval_notional": LimitRule(
        "dollars",
        MAX_DOLLARS,
        "a trade's notional above which an approver must approve it",
        ("desk", "account"),
    ),
}
assert tuple(RULES) == LIMIT_NAMES, "one rule per RiskLimits field, in its order"


def option_of(name: str) -> str:
    """The command line's option for a limit: `--max-open-orders`."""
    return "--" + name.replace("_", "-")


def limit_named(text: str) -> str:
    """The limit a word names (`max-open-orders` or `max_open_orders`); BadLimit for none."""
    name = text.strip().lstrip("-").lower().replace("-", "_")
    if name not in RULES:
        known = ", ".join(option_of(known)[2:] for known in RULES)
        raise BadLimit(f"no limit named {text!r}: choose from {known}")
    return name


def limit_value(name: str, text: str, scope: LimitScope) -> Value:
    """The typed value of limit `name` for `scope`, checked; BadLimit naming the option otherwise."""
    rule, option = RULES[name], option_of(name)
    if scope not in rule.scopes:
        raise BadLimit(f"{option} is set per {' or per '.join(rule.scopes)}, not per trader")
    typed = text.strip()
    if rule.whole:
        if not _WHOLE.fullmatch(typed):
            raise BadLimit(f"{option} must be a whole number{_of(rule)}, got {_shown(typed)}")
        digits = typed.lstrip("0") or "0"
        value: Value = int(digits) if len(digits) <= 12 else rule.maximum + 1  # never parse a huge int
        problem = None if value > 0 else "must be greater than 0"
    else:
        try:
            value = Decimal(typed.replace("_", "").replace(",", ""))
        except InvalidOperation:
            raise BadLimit(f"{option} must be a number{_of(rule)}, got {_shown(typed)}") from None
        problem = amount_problem(value)
    # Over the maximum is said before amount_problem's digits: the clearer reason of the two.
    if Decimal(value).is_finite() and value > rule.maximum:
        problem = f"must be at most {rule.maximum:,}{'' if rule.unit == 'count' else ' ' + rule.unit}"
    if problem is not None:
        raise BadLimit(f"{option} {problem}, got {_shown(typed)}")
    return value


def _of(rule: LimitRule) -> str:
    return "" if rule.unit == "count" else f" of {rule.unit}"


def _shown(typed: str) -> str:
    return typed if len(typed) <= 24 else typed[:20] + "…"
