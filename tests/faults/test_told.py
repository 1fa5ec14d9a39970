"""The campaign's told verdicts and the cluster's readings, on hand-made data (no stack started)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from messages.records import TradeRecord
from tests.faults.cluster import OWNER_FILE, connections_per_port, leftovers
from tests.faults.kinds.context import KindOutcome, parse_time
from tests.faults.told import check_told


def record(status: str, method: str | None = None) -> TradeRecord:
    return TradeRecord(
        trade_id=uuid.uuid4(),
        user_id="UF001",
        symbol="AAPL",
        quantity=Decimal(1),
        trade_type="buy",
        status=status,  # type: ignore[arg-type]
        timestamp=datetime.now(UTC),
        execution_method=method,  # type: ignore[arg-type]
    )


def dm(trade: TradeRecord, notice: str) -> dict[str, Any]:
    payload = {"trade_id": str(trade.trade_id), "notice": notice}
    return {"text": "…", "metadata": {"event_type": "tradeflow_trade_notice", "event_payload": payload}}


def test_a_trade_told_its_outcome_once_is_told() -> None:
    executed = record("executed", "alpaca")
    told = check_told({executed.trade_id: executed}, [], [dm(executed, "outcome")])
    assert (told.duplicate, told.missing, told.untold, told.simulated_beside_order) == ([], [], [], [])


def test_not_executed_then_the_outcome_after_a_replay_is_two_notices_not_one_twice() -> None:
    replayed = record("executed", "alpaca")
    told = check_told(
        {replayed.trade_id: replayed}, [], [dm(replayed, "not_executed"), dm(replayed, "outcome")]
    )
    assert told.duplicate == [] and told.untold == []


def test_a_notice_posted_twice_is_a_duplicate() -> None:
    failed = record("failed")
    told = check_told({failed.trade_id: failed}, [], [dm(failed, "outcome"), dm(failed, "outcome")])
    assert len(told.duplicate) == 1


def test_only_delayed_or_nothing_at_all_is_untold() -> None:
    delayed, silent, working = record("executed", "simulation"), record("failed"), record("unknown")
    trades = {t.trade_id: t for t in (delayed, silent, working)}
    told = check_told(trades, [], [dm(delayed, "delayed"), dm(working, "working")])
    assert sorted(line.split(":")[0] for line in told.untold) == sorted(
        [str(delayed.trade_id), str(silent.trade_id)]
    )
    assert len(told.missing) == 2  # both terminal, neither told its outcome


def test_a_simulation_beside_an_order_at_alpaca_is_counted() -> None:
    simulated = record("executed", "simulation")
    orders = [{"client_order_id": str(simulated.trade_id), "id": "o-1"}]
    told = check_told({simulated.trade_id: simulated}, orders, [dm(simulated, "outcome")])
    assert len(told.simulated_beside_order) == 1


def test_a_kind_never_injected_or_with_a_problem_is_not_ok() -> None:
    assert not KindOutcome("stale_replay", 0, 0).ok
    assert "never injected" in KindOutcome("stale_replay", 0, 0).line()
    assert not KindOutcome("stale_replay", 1, 3, ["x: placed late"]).ok
    assert KindOutcome("stale_replay", 1, 3).line() == "stale_replay: injected 1, 3 trade(s) checked: ok"


def test_emulator_times_read_to_the_microsecond() -> None:
    assert parse_time("2026-12-06T21:00:00.123456789Z") == parse_time("2026-12-06T21:00:00.123456Z")
    assert parse_time("2026-12-06T21:00:01Z") - parse_time("2026-12-06T21:00:00.5Z") == 0.5


def test_connections_are_counted_by_the_node_they_reach() -> None:
    listed = "\n".join(f"127.0.0.1:5000{n} -> 127.0.0.1:{port}" for n, port in enumerate((5701, 5701, 5702)))
    assert connections_per_port(listed) == {5701: 2, 5702: 1}


def test_a_node_whose_campaign_is_gone_is_a_leftover(tmp_path: Path) -> None:
    mine, gone = tmp_path / "tradeflow-rabbitmq-mine", tmp_path / "tradeflow-rabbitmq-gone"
    for directory, pid in ((mine, os.getpid()), (gone, 2**22 + 1)):  # above any pid_max: never running
        directory.mkdir()
        (directory / OWNER_FILE).write_text(f"{pid} node-{directory.name}@localhost\n")
    assert [name for _, _, name in leftovers(tmp_path)] == ["node-tradeflow-rabbitmq-gone@localhost"]
