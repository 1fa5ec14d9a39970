"""`tradeflow positions reconcile`: tradeflow's positions, summed per symbol over every trader, beside the
shares the account holds at Alpaca (`GET /v2/positions`). A drift means an order placed outside tradeflow,
a fill tradeflow never recorded, or a position moved twice: an operator looks before the next trade
(workers/handlers/position_drift.py). The simulation keeps no account: with Alpaca off there is nothing to
compare.
"""

from __future__ import annotations

from typing import Any

import msgspec

from brokers.port import BrokerBusy, BrokerUnavailable
from workers.handlers.position_drift import SymbolShares, compare_accounts, shares_text
from workers.settings import Settings

NOTHING_TO_COMPARE = "the simulation keeps no account: Alpaca is off"


async def reconcile_positions(settings: Settings) -> dict[str, Any]:
    """Both sides per symbol and the drift (Alpaca's shares − tradeflow's); `compared` False, with why,
    when Alpaca cannot be asked. StoreUnavailable when the store cannot be read."""
    from workers.bootstrap import open_broker, open_store

    store = await open_store(settings)
    try:
        positions = await store.list_all_positions()
    finally:
        await store.close()
    broker = await open_broker(msgspec.structs.replace(settings, tradeflow_alpaca_stream=False))
    try:
        compared = await compare_accounts(broker, positions)
    except (BrokerUnavailable, BrokerBusy) as exc:
        return {"compared": False, "why": f"Alpaca could not be asked: {exc}", "symbols": [], "drift": []}
    finally:
        await broker.close()
    if compared is None:
        why = getattr(broker, "disabled_reason", "") or NOTHING_TO_COMPARE
        return {"compared": False, "why": why, "symbols": [], "drift": []}
    rows = [_row(shares) for shares in compared]
    return {
        "compared": True,
        "symbols": [row for row in rows if row["tradeflow"] != "0" or row["alpaca"] != "0"],
        "drift": [row["symbol"] for row in rows if row["drift"] != "0"],
    }


def _row(shares: SymbolShares) -> dict[str, Any]:
    return {
        "symbol": shares.symbol,
        "tradeflow": shares_text(shares.tradeflow),
        "alpaca": shares_text(shares.alpaca),
        "drift": shares_text(shares.drift),
    }


def render_positions_reconcile(doc: dict[str, Any]) -> str:
    if not doc["compared"]:
        return f"Positions not compared: {doc['why']}."
    if not doc["symbols"]:
        return "No positions at tradeflow or at Alpaca: nothing drifts."
    lines = [f"  {'SYMBOL':<8}{'TRADEFLOW':>14}{'ALPACA':>14}{'DRIFT':>12}"]
    for row in doc["symbols"]:
        mark = "  ✗ drift" if row["symbol"] in doc["drift"] else ""
        lines.append(f"  {row['symbol']:<8}{row['tradeflow']:>14}{row['alpaca']:>14}{row['drift']:>12}{mark}")
    verdict = (
        f"✗ {len(doc['drift'])} symbol(s) drift: {', '.join(doc['drift'])} (Alpaca's shares − tradeflow's)"
        if doc["drift"]
        else "✓ no drift: every symbol's shares at Alpaca are the sum of the traders' positions"
    )
    title = "Positions, every trader's summed per symbol, beside the account's at Alpaca:"
    return "\n".join([title, *lines, verdict])
