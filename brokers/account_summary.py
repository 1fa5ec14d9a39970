"""The Alpaca paper account's figures as a trader or an operator reads them (`tradeflow account`,
`/trade account`): cash, buying power, equity and today's change (equity against the last close's)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from brokers.alpaca_mapping import decimal_of
from brokers.fallback import FallbackBroker
from brokers.port import BrokerBusy, BrokerUnavailable, StockBroker, broker_for


async def account_summary(broker: StockBroker, account: str | None = None) -> dict[str, Any]:
    """An account read now (`GET /v2/account`): `account`'s when the broker trades in several, else the
    default's; `read` False, with why, when Alpaca is disabled or cannot be asked. Alpaca off altogether is
    the caller's to say (it opened no Alpaca broker)."""
    name = account or getattr(broker, "default", None)
    broker = broker_for(broker, account)
    summary = await _summary(broker)
    return {**summary, "account": name} if name is not None else summary


async def _summary(broker: StockBroker) -> dict[str, Any]:
    if not isinstance(broker, FallbackBroker) or broker.primary is None or broker.disabled_reason:
        return {"read": False, "why": f"Alpaca is disabled: {getattr(broker, 'disabled_reason', '')}"}
    try:
        account = await broker.primary.account()
    except (BrokerUnavailable, BrokerBusy) as exc:
        return {"read": False, "why": f"Alpaca could not be asked: {exc}"}
    equity, last_equity = decimal_of(account.equity), decimal_of(account.last_equity)
    change = equity - last_equity
    pct = str((change / last_equity * 100).quantize(Decimal("0.01"))) if last_equity else None
    return {
        "read": True,
        "account_number": str(account.account_number),
        "status": str(getattr(account.status, "value", account.status)),
        "cash": _money(decimal_of(account.cash)),
        "buying_power": _money(decimal_of(account.buying_power)),
        "equity": _money(equity),
        "last_equity": _money(last_equity),
        "change_today": _money(change),
        "change_today_pct": pct,
    }


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))
