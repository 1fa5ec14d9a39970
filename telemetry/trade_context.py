"""The trade a piece of work is for, kept in the OpenTelemetry context so the client spans can name it.

A context value, not baggage: it must not travel in the headers sent to Alpaca, Slack or AWS.
"""

from __future__ import annotations

from opentelemetry.context import Context, create_key, get_value, set_value

_TRADE_ID_KEY = create_key("tradeflow.trade_id")


def with_trade_id(trade_id: str, context: Context | None = None) -> Context:
    """Return `context` (the current one by default) saying it works for `trade_id`."""
    return set_value(_TRADE_ID_KEY, trade_id, context)


def current_trade_id(context: Context | None = None) -> str | None:
    """Return the trade id `with_trade_id` put in the context (the current one by default), if any."""
    trade_id = get_value(_TRADE_ID_KEY, context)
    return trade_id if isinstance(trade_id, str) else None
