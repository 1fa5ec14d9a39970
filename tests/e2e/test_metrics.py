"""`tradeflow metrics --json` after 20 trades of known fates: the figures are the counts the test made.

The workers trade on the Alpaca emulator. In turn: trades Alpaca fills; trades simulated because Alpaca's
account endpoint is down when they execute (the fallback, labelled simulation); trades Alpaca refuses
(insufficient buying power: failed, by Alpaca); and trades the policy rejects (not executions at all).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from brokers.alpaca_reads import EXECUTION_QUOTE_AGE_S
from messages.records import TradeRecord
from tests.e2e.stack import Stack, all_told
from tests.waiting import eventually
from workers.chain.publisher import Publisher
from workers.console.trades.submit import build_command

pytestmark = pytest.mark.e2e

SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "META")


@pytest.fixture
def publisher(alpaca_stack: Stack) -> Iterator[Publisher]:
    publisher = Publisher(alpaca_stack.settings)
    yield publisher
    publisher.close()


def _trade_all(stack: Stack, publisher: Publisher, count: int, *, user: str = "U123") -> list[TradeRecord]:
    """Submit `count` small buys at once; return their records once each trader was told the outcome."""
    commands = [
        build_command(user_id=user, side="buy", quantity=str(1 + n % 3), symbol=SYMBOLS[n % len(SYMBOLS)])
        for n in range(count)
    ]
    for command in commands:
        publisher.submit(command)
    ids = [command.trade.trade_id for command in commands]

    eventually(all_told(stack, ids), timeout=120, interval=0.2)

    async def read(store: Any) -> list[TradeRecord]:
        return [await store.get_trade(trade_id) for trade_id in ids]

    records: list[TradeRecord] = stack.store_call(read)
    return records


def _pct(part: int, whole: int) -> str:
    return str((Decimal(part) * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_metrics_after_20_trades_match_what_the_test_made(alpaca_stack: Stack, publisher: Publisher) -> None:
    stack, alpaca = alpaca_stack, alpaca_stack.emulator.admin

    on_alpaca = _trade_all(stack, publisher, 9)

    # The market data API down: no quote, so no order may leave (the account, clock and assets are
    # served from what Alpaca told before); Alpaca unreachable before any order left: simulated.
    alpaca.add_fault("http_error", status=503, method="GET", path="/v2/stocks/*", times=None)
    # An execution takes a quote read since its trade was submitted, or one at most EXECUTION_QUOTE_AGE_S
    # old: the first trades' quotes must be older than that, or these would execute on Alpaca with them.
    time.sleep(EXECUTION_QUOTE_AGE_S + 0.5)
    simulated = _trade_all(stack, publisher, 5)
    alpaca.clear_faults()

    alpaca.add_fault("refuse_buying_power", times=4)  # the next four order requests: 403
    refused = _trade_all(stack, publisher, 4)

    rejected = _trade_all(stack, publisher, 2, user="U999")  # not a trader: rejected by validation

    # What the test made, checked on each trade before it is compared with the report.
    assert {(t.status, t.execution_method) for t in on_alpaca} == {("executed", "alpaca")}
    assert {(t.status, t.execution_method) for t in simulated} == {("executed", "simulation")}
    assert {(t.status, t.error_code) for t in refused} == {("failed", "INSUFFICIENT_BUYING_POWER")}
    assert {t.status for t in rejected} == {"rejected"}
    assert len(alpaca.orders()) == len(on_alpaca)  # refused requests placed nothing, simulations neither

    done = stack.cli("metrics", "--since", "1h", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)

    executed = len(on_alpaca) + len(simulated)
    executions = executed + len(refused)
    by_alpaca = len(on_alpaca) + len(refused)  # a refusal by Alpaca is an Alpaca execution that failed
    assert doc["trades"] == 20 and doc["open"] == 0
    assert doc["total_executions"] == executions == 18
    assert (doc["executed"], doc["failed"], doc["rejected"]) == (executed, len(refused), len(rejected))
    assert doc["success_rate_pct"] == _pct(executed, executions)
    assert doc["execution_methods"]["alpaca"] == {"count": by_alpaca, "pct": _pct(by_alpaca, executions)}
    assert doc["execution_methods"]["simulation"] == {
        "count": len(simulated),
        "pct": _pct(len(simulated), executions),
    }
    assert doc["by_error_code"] == {"INSUFFICIENT_BUYING_POWER": len(refused)}
    assert doc["by_status"] == {"executed": executed, "failed": len(refused), "rejected": len(rejected)}
    slippages = [t.slippage_bps for t in (*on_alpaca, *simulated) if t.slippage_bps is not None]
    assert len(slippages) == executed
    mean = sum(slippages, Decimal(0)) / len(slippages)
    assert Decimal(doc["average_slippage_bps"]) == mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert doc["average_execution_time_ms"] is not None
