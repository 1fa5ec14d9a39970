"""`tradeflow account`: the Alpaca paper account every trader of the deployment trades: cash, buying power,
equity and today's change (equity against the last close's), read now (`GET /v2/account`)."""

from __future__ import annotations

from typing import Any

import msgspec

from workers.settings import Settings

OFF = "Alpaca is off (ALPACA_PAPER_ENABLED=false): the simulation keeps no account"


async def account_document(settings: Settings, account: str | None = None) -> dict[str, Any]:
    """The account's figures; `read` False, with why, when Alpaca is off, disabled or cannot be asked."""
    from brokers.account_summary import account_summary
    from workers.bootstrap import open_broker

    if not settings.alpaca_paper_enabled:
        return {"read": False, "why": OFF}
    broker = await open_broker(msgspec.structs.replace(settings, tradeflow_alpaca_stream=False))
    try:
        return await account_summary(broker, account)
    finally:
        await broker.close()


def render_account(doc: dict[str, Any]) -> str:
    if not doc["read"]:
        return f"Account not read: {doc['why']}."
    pct = f" ({doc['change_today_pct']} %)" if doc["change_today_pct"] is not None else ""
    return "\n".join(
        [
            f"Alpaca paper account {doc['account_number']} ({doc['status']})"
            + (f", the desk's {doc['account']} account" if doc.get("account") else ""),
            f"  cash          ${doc['cash']}",
            f"  buying power  ${doc['buying_power']}",
            f"  equity        ${doc['equity']}",
            f"  today         ${doc['change_today']}{pct} since the last close (${doc['last_equity']})",
        ]
    )
