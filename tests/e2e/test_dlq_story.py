"""The operator's dead-letter story on real RabbitMQ: a trade whose order may be at Alpaca cannot be settled
by workers restarted with Alpaca off, so its messages are dead-lettered, never simulated; the operator sees
them in `tradeflow dlq list`, fixes the cause, replays them, and the trade executes once, in its own trace."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from telemetry.otlp_sink import read_spans
from tests.e2e.stack import Stack, start_workers, stop_workers, wait_for_consumers
from tests.waiting import eventually
from workers.handlers.audit import NOTIFIED_KEY

pytestmark = pytest.mark.e2e

LOOKUP = "/v2/orders:by_client_order_id"


def _each_the_trades_may_have_an_order(letters: list[dict[str, Any]], trade_id: str) -> None:
    """Dead letters of the trade only, each from an Alpaca-off worker that could not ask about its order."""
    assert letters and {letter["trade_id"] for letter in letters} == {trade_id}
    for letter in letters:
        assert letter["retries"] == 2 and "retries exhausted" in letter["reason"]
        assert "may have an order at Alpaca" in letter["reason"]


def _execution_dead_letters(stack: Stack) -> list[dict[str, Any]]:
    listed = stack.cli("dlq", "list", "execution", "--json")
    assert listed.returncode == 0, listed.stderr
    return [m for q in json.loads(listed.stdout)["queues"] for m in q["messages"]]


def _restart_workers(stack: Stack, **settings: str) -> None:
    stop_workers(stack)
    stack.workers.append(start_workers({**stack.env, **settings}, "workers.app:rabbitmq"))
    wait_for_consumers(stack.queues, stack.settings)


def test_a_dead_lettered_trade_replayed_after_the_fix_executes_once_in_its_trace(
    alpaca_polling_stack: Stack,
) -> None:
    stack, alpaca = alpaca_polling_stack, alpaca_polling_stack.emulator.admin
    # Alpaca takes the order but its gateway answers 504, and every lookup of the order answers 503: the
    # order may exist, so the trade is `unknown` (never simulated) and its execution rechecks it later.
    alpaca.add_fault("accept_then_504")
    alpaca.add_fault("http_error", status=503, method="GET", path=LOOKUP, times=None)
    submitted = stack.cli("submit", "--user", "U123", "buy", "5", "AAPL", "--json")
    assert submitted.returncode == 0, submitted.stderr
    trade_id = json.loads(submitted.stdout)["trade_id"]
    eventually(lambda: stack.trade_status(trade_id) == "unknown", timeout=60)

    # The cause: an operator restarts the workers with Alpaca off. The recheck cannot ask Alpaca about the
    # order and may not simulate it: it fails every attempt (TRADEFLOW_MAX_RETRIES=2) and is dead-lettered.
    _restart_workers(stack, ALPACA_PAPER_ENABLED="false")
    alpaca.clear_faults()  # Alpaca answers again, but these workers do not ask it
    xq = f"{stack.queue('execution')}.XQ"
    eventually(lambda: stack.queues.count(xq) >= 1, timeout=120)

    _each_the_trades_may_have_an_order(_execution_dead_letters(stack), trade_id)
    [placed] = alpaca.orders(trade_id)  # the one order the first attempt placed, and no other
    shown = json.loads(stack.cli("trade", "show", trade_id, "--json").stdout)
    assert shown["trade"]["status"] == "unknown"

    # The fix: Alpaca on again. At their start the workers reconcile every open trade: this one is settled
    # on the order Alpaca holds. The operator then replays the dead letters: they find it settled.
    _restart_workers(stack)

    async def notified_trade(store: Any) -> Any:
        """The trade once its trader was told of how it ended, else None."""
        record = await store.get_trade(uuid.UUID(trade_id))
        told = await store.get_audit(uuid.UUID(trade_id), NOTIFIED_KEY)
        return record if record.is_terminal and told else None

    trade = eventually(lambda: stack.store_call(notified_trade), timeout=60)
    assert trade.status == "executed" and trade.execution_method == "alpaca"
    # Every letter, read now: the recheck, the reconciliation the Alpaca-off workers ran at their start
    # and whatever else of theirs exhausted its retries after the first one was seen (on a loaded machine
    # they land over seconds); the workers with Alpaca on add none, they settle the trade.
    letters = _execution_dead_letters(stack)
    _each_the_trades_may_have_an_order(letters, trade_id)
    replayed_at_ns = time.time_ns()
    replayed = stack.cli("dlq", "replay", "execution", "--all", "--as", "OPS1", "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert len(json.loads(replayed.stdout)["replayed"]) == len(letters)
    assert stack.queues.count(xq) == 0 and _execution_dead_letters(stack) == []
    _await_replays(stack, trade_id, [letter["message_id"] for letter in letters], replayed_at_ns)

    # Once: the one order under the trade id, one execution, one position change, one notice of it.
    assert [o["id"] for o in alpaca.orders(trade_id)] == [placed["id"]] == [trade.alpaca_order_id]
    shown = json.loads(stack.cli("trade", "show", trade_id, "--json").stdout)
    events = [a["event_type"] for a in shown["audit"]]
    assert events[:2] == ["trade_submitted", "trade_recorded"] and "order_unknown" in events
    assert events[-3:] == ["trade_executed", "position_updated", "trade_notified"]
    assert [e for e in events if e in ("trade_executed", "trade_failed", "position_updated")] == [
        "trade_executed",
        "position_updated",
    ]
    positions = json.loads(stack.cli("positions", "U123", "--json").stdout)["positions"]
    assert [(p["symbol"], p["quantity"]) for p in positions] == [("AAPL", "5")]
    notices = stack.outbox.read_text()
    assert notices.count("Trade Executed Successfully") == 1 and notices.count(f"trade {trade_id}") == 2


def _await_replays(stack: Stack, trade_id: str, letter_ids: list[str], since_ns: int) -> None:
    """The trade's spans once each replayed letter went down the chain to its notification (a duplicate at
    every stage, which changes nothing)."""
    trace_id = trade_id.replace("-", "")
    notifications = f"{stack.queue('notifications')} process"

    def spans() -> list[dict[str, Any]]:
        found = [s for s in read_spans(stack.spans_path) if s["trace_id"] == trace_id]
        after = [s for s in found if s["name"] == notifications and s["start_time_unix_nano"] > since_ns]
        return found if len(after) >= len(letter_ids) else []

    found = eventually(spans, timeout=30)
    # Every attempt of each dead letter is in the trade's trace, failed, its exception recorded: three each.
    # Other messages of the trade may have failed too (on a loaded machine, a recheck of the first workers
    # while Alpaca's lookups answered 503, or a time limit): those are not the letters'.
    execution = f"{stack.queue('execution')} process"
    for letter_id in letter_ids:
        attempts = [
            s
            for s in found
            if s["name"] == execution
            and s["attributes"].get("messaging.message.id") == letter_id
            and s["status_code"] == "ERROR"
            and any(
                e["attributes"].get("exception.type", "").endswith("BrokerUnavailable") for e in s["events"]
            )
        ]
        retries = sorted(a["attributes"].get("messaging.dramatiq.retries", 0) for a in attempts)
        assert retries == [0, 1, 2], f"letter {letter_id}: attempts {retries}"
