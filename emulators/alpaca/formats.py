"""Write numbers and times the way Alpaca's JSON does: decimal strings, RFC 3339 times."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
CENT = Decimal("0.01")
# Quantities and average prices: Alpaca accepts and reports up to 9 decimal places.
NINE_PLACES = Decimal("0.000000001")


def decimal_text(value: Decimal) -> str:
    """Write a Decimal with no exponent and no trailing zeros: "10", "189.5", "0.000123"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def money_text(value: Decimal) -> str:
    """Write an amount of dollars rounded to the cent, as Alpaca's account fields are."""
    return decimal_text(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


def to_decimal(value: object) -> Decimal | None:
    """Read a JSON number or numeric string as an exact Decimal; None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)  # 189.5, never 189.499999…: the float's shortest decimal form
    if isinstance(value, int | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def now_ns() -> int:
    return time.time_ns()


def utc_now() -> datetime:
    return datetime.now(UTC)


def rfc3339_ns(ns: int) -> str:
    """An instant as Alpaca writes order and market-data times: UTC, nanoseconds, trailing Z."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def eastern_text(moment: datetime) -> str:
    """An instant as the /v2/clock endpoint writes it: New York local time with its offset."""
    return moment.astimezone(EASTERN).isoformat()


def parse_instant(text: str) -> datetime | None:
    """Read an RFC 3339 time or a date (as query filters accept); None when it is neither."""
    moment = None
    # A "+" in an unencoded query string arrives as a space: "…T10:00:00 00:00" means +00:00.
    for candidate in (text.strip(), text.strip().replace(" ", "+")):
        try:
            moment = datetime.fromisoformat(candidate)
            break
        except ValueError:
            continue
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
