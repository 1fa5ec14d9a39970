"""What a trader types: the `/trade` text that prefills the modal, and the amounts typed in either.

`buy 100 AAPL [market | limit P | stop P | stop_limit STOP LIMIT | trailing T | trailing T% | oco P]
[tp P] [sl P [sll P]] [ext] [TIF]`; a dollar amount for the quantity (`buy $500 AAPL`) is a notional order,
`ext` marks extended hours; `tp` and `sl` add a take-profit and a stop-loss exit (both: a bracket, one: an
OTO), `sll` makes the stop-loss a stop-limit; `oco P sl S` is an OCO: take-profit P, stop-loss S.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import msgspec

from messages.types import AMOUNT_BOUNDS, amount_problem

TIMES_IN_FORCE = {
    "day": "Day",
    "gtc": "Good till canceled",
    "ioc": "Immediate or cancel",
    "fok": "Fill or kill",
}
PRICES_NEEDED = {
    "market": 0,
    "limit": 1,
    "stop": 1,
    "stop_limit": 2,
    "trailing": 1,
    "trailing_stop": 1,
    "oco": 1,
}
EXIT_WORDS = {"tp": "take_profit", "sl": "stop_loss", "sll": "stop_loss_limit"}
EXTENDED_WORDS = frozenset({"ext", "extended", "extended_hours"})
CONFIRM_WORDS = frozenset({"confirm", "confirmed"})  # send it although the same order was just sent

HELP = (
    "*Trade from Slack*\n"
    "`/trade` opens the trade form. Prefill it with the order:\n"
    "• `/trade buy 100 AAPL` (market order) · `/trade buy $500 AAPL` (dollars, in fractional shares)\n"
    "• `/trade sell 5 MSFT limit 410.50` (limit order) · `/trade buy 5 MSFT limit 400 ext` (extended hours: "
    "pre-market and after-hours)\n"
    "• `/trade buy 10 TSLA stop 250` · `/trade buy 10 TSLA stop_limit 250 252 gtc`\n"
    "• `/trade sell 10 AAPL trailing 2%` · `/trade sell 10 AAPL trailing 1.50 gtc` (trailing stop)\n"
    "• `/trade buy 10 AAPL limit 200 tp 220 sl 190` (bracket: take-profit and stop-loss; one of them: OTO) · "
    "`/trade sell 10 AAPL oco 230 sl 190` (OCO on a position held) · add `account:growth` to trade in "
    "another of the desk's accounts · add `confirm` to send an order the same as one just sent\n"
    "Side is `buy` or `sell`; time in force `day` (default), `gtc`, `ioc` or `fok`.\n"
    "`/trade orders`: your working orders and recent trades · `/trade positions`: what you hold · "
    "`/trade account`: cash, buying power, equity, today\n"
    "`/trade cancel TRADE_ID` · `/trade cancel AAPL` · `/trade cancel all`: cancel working orders "
    "(or press Cancel on an order's message) · `/trade modify TRADE_ID`: change its quantity, price or "
    "time in force\n"
    "`/trade close AAPL` · `/trade close all`: flatten a position at market · `/trade help`: this\n"
    "`/trade notify`: your alerts by email and SMS (`/trade notify email me@example.com`, "
    "`sms +15551234567`, `events large_trade,halt`, `above 25000`, `off`)"
)


class Prefill(msgspec.Struct, frozen=True, kw_only=True):
    side: str | None = None
    quantity: str | None = None  # shares, or a dollar amount written `$500`
    symbol: str | None = None
    order_type: str = "market"
    limit_price: str | None = None
    stop_price: str | None = None
    trail: str | None = None  # a trailing stop's trail: `1.50` (dollars) or `2%`
    time_in_force: str = "day"
    extended_hours: bool = False
    confirmed: bool = False  # `confirm`: the duplicate guard lets it through
    order_class: str = "simple"
    take_profit: str | None = None
    stop_loss: str | None = None
    stop_loss_limit: str | None = None
    account: str | None = None  # `account:growth`: the Alpaca account to trade in


class BadTradeText(ValueError):
    """The slash command's text is not an order; the message says what was wrong."""


def parse_trade_text(text: str) -> Prefill:
    """The slash command's text → the form's prefill (see the module's docstring for the grammar)."""
    words = text.split()
    if not words:
        return Prefill()
    if len(words) < 3:
        raise BadTradeText(f"`{text}` is not an order: write `/trade buy 100 AAPL` (see `/trade help`).")
    side, quantity, symbol, *rest = words
    side = side.lower()
    if side not in ("buy", "sell"):
        raise BadTradeText(f"`{words[0]}` is not a side: use `buy` or `sell`.")
    if size_of(quantity) is None:
        raise BadTradeText(
            f"`{clip(quantity)}` is not a quantity: use a positive number of shares (`100`) or a dollar "
            f"amount (`$500`) with {AMOUNT_BOUNDS}."
        )
    extended = any(word.lower() in EXTENDED_WORDS for word in rest)
    rest = [word for word in rest if word.lower() not in EXTENDED_WORDS]
    confirmed = any(word.lower() in CONFIRM_WORDS for word in rest)
    rest = [word for word in rest if word.lower() not in CONFIRM_WORDS]
    rest, exits = _exits(rest)
    accounts = [word.split(":", 1)[1].lower() for word in rest if word.lower().startswith("account:")]
    rest = [word for word in rest if not word.lower().startswith("account:")]
    time_in_force = rest.pop().lower() if rest and rest[-1].lower() in TIMES_IN_FORCE else "day"
    order_type, prices = (rest[0].lower(), rest[1:]) if rest else ("market", [])
    needed = PRICES_NEEDED.get(order_type)
    if needed is None:
        raise BadTradeText(
            f"`{clip(rest[0])}` is not an order type: use market, limit, stop, stop_limit or trailing."
        )
    order_class = "oco" if order_type == "oco" else _class_of(exits)
    order_type = {"trailing": "trailing_stop", "oco": "limit"}.get(order_type, order_type)
    if len(prices) != needed or not all(_price_ok(order_type, price) for price in prices):
        example = "trailing 2%" if order_type == "trailing_stop" else "limit 410.50"
        raise BadTradeText(
            f"A {order_type.replace('_', ' ')} order needs {needed} positive price(s) with {AMOUNT_BOUNDS}, "
            f"e.g. `/trade sell 5 MSFT {example}`."
        )
    limit_price = stop_price = trail = None
    if order_type == "limit":
        limit_price = prices[0]
    elif order_type == "stop":
        stop_price = prices[0]
    elif order_type == "stop_limit":
        stop_price, limit_price = prices
    elif order_type == "trailing_stop":
        trail = prices[0]
    return Prefill(
        side=side,
        quantity=quantity,
        symbol=symbol.upper(),
        order_type=order_type,
        limit_price=limit_price,
        stop_price=stop_price,
        trail=trail,
        time_in_force=time_in_force,
        extended_hours=extended,
        confirmed=confirmed,
        order_class=order_class,
        **exits,
        account=accounts[-1] if accounts else None,
    )


def _exits(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """Take `tp P`, `sl P` and `sll P` out of the words: the rest, and the exits' prices by field."""
    rest: list[str] = []
    exits: dict[str, str] = {}
    tokens = iter(words)
    for word in tokens:
        field = EXIT_WORDS.get(word.lower())
        if field is None:
            rest.append(word)
            continue
        price = next(tokens, None)
        if amount(price) is None:
            raise BadTradeText(f"`{word}` needs a positive price with {AMOUNT_BOUNDS}, e.g. `{word} 220`.")
        exits[field] = str(price)
    return rest, exits


def _class_of(exits: dict[str, str]) -> str:
    legs = {"take_profit", "stop_loss"} & set(exits)
    return {2: "bracket", 1: "oto"}.get(len(legs), "simple")


def _price_ok(order_type: str, text: str) -> bool:
    return (trail_of(text) if order_type == "trailing_stop" else amount(text)) is not None


def decimal_or_none(text: str | None) -> Decimal | None:
    try:
        value = Decimal(text) if text is not None else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def amount(text: str | None) -> Decimal | None:
    """The text as a quantity or price within the wire's bounds (messages.types), else None."""
    value = decimal_or_none(text)
    return value if value is not None and amount_problem(value) is None else None


def size_of(text: str | None) -> tuple[str, Decimal] | None:
    """`100` → ("quantity", 100); `$500` → ("notional", 500); None when it is neither."""
    if text is None:
        return None
    dollars = text.startswith("$")
    value = amount(text.removeprefix("$").replace(",", "") if dollars else text)
    if value is None:
        return None
    return ("notional" if dollars else "quantity"), value


def trail_of(text: str | None) -> tuple[str, Decimal] | None:
    """`2%` → ("trail_percent", 2); `1.50` or `$1.50` → ("trail_price", 1.50); None when it is neither."""
    if text is None:
        return None
    percent = text.endswith("%")
    value = amount(text.removesuffix("%") if percent else text.removeprefix("$"))
    if value is None:
        return None
    return ("trail_percent" if percent else "trail_price"), value


def clip(text: str) -> str:
    return text if len(text) <= 24 else text[:20] + "…"
