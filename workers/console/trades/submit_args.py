"""`tradeflow submit`'s arguments: a trade of any kind from the command line."""

from __future__ import annotations

import uuid
from typing import Any


def add_submit_command(sub: Any) -> None:
    """`submit SIDE QUANTITY|$AMOUNT SYMBOL` and the order's terms (types, exits, account, waiting)."""
    submit = sub.add_parser("submit", help="submit a trade: SIDE QUANTITY|$AMOUNT SYMBOL")
    submit.add_argument("--user", required=True, help="the trader's Slack user id")
    submit.add_argument("--channel", default=None, help="the origin Slack channel id")
    submit.add_argument("side", help="buy or sell")
    submit.add_argument("quantity", help="shares, e.g. 10 or 0.5; or dollars, e.g. '$500' (a notional order)")
    submit.add_argument("symbol", help="ticker, e.g. AAPL")
    submit.add_argument(
        "--type",
        dest="order_type",
        default="market",
        help="market, limit, stop, stop_limit or trailing_stop",
    )
    submit.add_argument("--limit-price", default=None, help="the limit price (limit and stop_limit orders)")
    submit.add_argument("--stop-price", default=None, help="the stop price (stop and stop_limit orders)")
    submit.add_argument(
        "--trail", default=None, help="a trailing stop's trail: 1.50 (dollars) or 2%% (percent)"
    )
    submit.add_argument(
        "--extended-hours", action="store_true", help="also trade in the pre-market and after-hours sessions"
    )
    submit.add_argument(
        "--confirm",
        action="store_true",
        help="send it even if the same order was just sent (the desk's duplicate guard)",
    )
    submit.add_argument(
        "--class",
        dest="order_class",
        default=None,
        help="bracket, oto or oco (default: bracket with both exits, oto with one, else simple)",
    )
    submit.add_argument("--take-profit", default=None, help="a bracket's or OTO's take-profit limit price")
    submit.add_argument("--stop-loss", default=None, help="the stop-loss exit's stop price")
    submit.add_argument("--stop-loss-limit", default=None, help="makes the stop-loss a stop-limit")
    submit.add_argument("--tif", dest="time_in_force", default="day", help="day, gtc, ioc or fok")
    submit.add_argument(
        "--account", default=None, help="the Alpaca account (default: the trader's, else the desk's)"
    )
    submit.add_argument(
        "--trade-id", type=uuid.UUID, default=None, help="reuse a trade id (idempotent resubmit)"
    )
    submit.add_argument(
        "--wait",
        action="store_true",
        help="wait until the trade is decided or rests at the broker; exit 1 unless executed or working",
    )
    submit.add_argument("--timeout", type=float, default=60.0, help="seconds --wait waits (default 60)")
    submit.add_argument("--json", action="store_true", help="print the result as JSON")
