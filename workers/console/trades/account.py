"""`tradeflow account`: the Alpaca paper account every trader of the deployment trades: cash, buying power,
equity and today's change (equity against the last close's), read now (`GET /v2/account`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from brokers.alpaca_mapping import decimal_of
from workers.settings import Settings


async def account_document(settings: Settings) -> dict[str, Any]:
    """The account's figures; `read` False, with why, when Alpaca is off, disabled or cannot be asked."""
    from brokers.fallback import FallbackBroker
    from brokers.port import BrokerBusy, BrokerUnavailable
    from workers.bootstrap import open_broker

    if not settings.alpaca_paper_enabled:
        off = "Alpaca is off (ALPACA_PAPER_ENABLED=false): the simulation keeps no account"
        return {"read": False, "why": off}
    broker = await open_broker(msgspec.structs.replace(settings, tradeflow_alpaca_stream=False))
    try:
        if not isinstance(broker, FallbackBroker) or broker.primary is None or broker.disabled_reason:
            return {"read": False, "why": f"Alpaca is disabled: {getattr(broker, 'disabled_reason', '')}"}
        try:
            account = await broker.primary.account()
        except (BrokerUnavailable, BrokerBusy) as exc:
            return {"read": False, "why": f"Alpaca could not be asked: {exc}"}
    finally:
        await broker.close()
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


def render_account(doc: dict[str, Any]) -> str:
    if not doc["read"]:
        return f"Account not read: {doc['why']}."
    pct = f" ({doc['change_today_pct']} %)" if doc["change_today_pct"] is not None else ""
    return "\n".join(
        [
            f"Alpaca paper account {doc['account_number']} ({doc['status']})",
            f"  cash          ${doc['cash']}",
            f"  buying power  ${doc['buying_power']}",
            f"  equity        ${doc['equity']}",
            f"  today         ${doc['change_today']}{pct} since the last close (${doc['last_equity']})",
        ]
    )
