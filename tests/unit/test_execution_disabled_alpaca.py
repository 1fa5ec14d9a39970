"""A worker whose Alpaca is disabled (ALPACA_PAPER_ENABLED=false, or a safety check failing at boot) and a
trade an earlier attempt may have sent to Alpaca (its lease was taken over): never simulated. The trade
stays `unknown` until Alpaca can be asked, and only Alpaca's answer settles it (issue 13, defect 3).
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from brokers.fallback import FallbackBroker
from brokers.port import BrokerUnavailable, StockBroker
from brokers.simulated import SimulatedBroker
from messages.events import ReconcileTrade, TradeExecuted, TradeRecorded, TradeWorking
from messages.trade import Execution, OrderPending
from tests.unit.fakes import NOW, make_deps, submit, trade
from workers.handlers.deps import Deps
from workers.handlers.execution import execute_trade
from workers.handlers.persistence import record_trade
from workers.handlers.validation import validate_trade


def _disabled_at_boot() -> FallbackBroker:
    return FallbackBroker(None, SimulatedBroker(delay_ms=0), disabled_reason="the account number is live")


@pytest.mark.parametrize(
    "broker", [_disabled_at_boot(), SimulatedBroker(delay_ms=0)], ids=["guard-failed", "alpaca-off"]
)
async def test_a_later_attempt_is_left_unknown_never_simulated(broker: StockBroker) -> None:
    result = await broker.execute(trade(), first_attempt=False)

    assert isinstance(result, OrderPending) and result.state == "unknown"
    assert result.execution_method == "alpaca"  # where its order may be


@pytest.mark.parametrize(
    "broker", [_disabled_at_boot(), SimulatedBroker(delay_ms=0)], ids=["guard-failed", "alpaca-off"]
)
async def test_a_first_attempt_still_runs_in_the_simulation(broker: StockBroker) -> None:
    result = await broker.execute(trade())
    assert isinstance(result, Execution) and result.execution_method == "simulation"


async def test_the_simulation_answers_a_later_attempt_at_a_trade_it_executed_itself() -> None:
    simulated = SimulatedBroker(delay_ms=0)
    placed = trade()
    first = await simulated.execute(placed)  # its outcome was not recorded (the store failed)

    again = await simulated.execute(placed, first_attempt=False)

    assert again == first  # nothing can be at Alpaca: the first attempt ran here, in the simulation


async def _taken_over(deps: Deps) -> TradeRecorded:
    submitted = submit(submitted_at=NOW)
    recorded = await record_trade(await validate_trade(submitted, deps), deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)
    # The attempt that held the order lease died (maybe mid-order at Alpaca); its lease ran out.
    await deps.store.claim_lease_over(f"order#{recorded.trade.trade_id}", now_ms=0, lease_ms=1)
    return recorded


@pytest.mark.parametrize("broker", [_disabled_at_boot, lambda: SimulatedBroker(delay_ms=0)])
async def test_the_stage_keeps_such_a_trade_unknown_until_alpaca_can_be_asked(broker: object) -> None:
    clock = [NOW]
    deps = make_deps(broker=broker(), clock=lambda: clock[0])  # type: ignore[operator]
    recorded = await _taken_over(deps)

    kept = await execute_trade(recorded, deps)

    assert isinstance(kept, tuple)
    working, recheck = kept
    assert isinstance(working, TradeWorking) and working.state == "unknown"
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "unknown" and record.execution_method == "alpaca"
    clock[0] += timedelta(minutes=20)  # long past the give-up time of an order Alpaca says is missing
    with pytest.raises(BrokerUnavailable):  # retried and swept: no verdict without Alpaca's answer
        await execute_trade(recheck, deps)
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "unknown"


async def test_the_sweepers_one_look_is_dropped_not_dead_lettered_while_alpaca_cannot_be_asked() -> None:
    """The sweeper looks again next sweep: its message raising (retried into a dead letter) every sweep would
    bury the operator under copies of one trade while Alpaca is off (the fault campaign counted 88)."""
    deps = make_deps(broker=_disabled_at_boot(), clock=lambda: NOW)
    recorded = await _taken_over(deps)
    await execute_trade(recorded, deps)  # unknown: an earlier attempt may have sent its order

    swept = await execute_trade(ReconcileTrade(trade=recorded.trade, reason="sweep", recheck=False), deps)

    assert swept is None
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "unknown"
    with pytest.raises(BrokerUnavailable):  # a recheck chain's message still fails, for its dead letter
        await execute_trade(ReconcileTrade(trade=recorded.trade, reason="recheck"), deps)


class AlpacaAgain:
    """The worker restarted with Alpaca enabled: the order the dead attempt placed had filled."""

    name = "alpaca"

    def __init__(self, filled: Execution) -> None:
        self.filled = filled

    async def execute(self, trade: object, *, first_attempt: bool = True) -> Execution:
        raise AssertionError("an unknown trade is never placed again")

    async def resume(self, trade: object, broker_order_id: str | None) -> Execution:
        return self.filled


async def test_once_alpaca_can_be_asked_its_answer_settles_the_trade() -> None:
    clock = [NOW]
    deps = make_deps(broker=_disabled_at_boot(), clock=lambda: clock[0])
    recorded = await _taken_over(deps)
    kept = await execute_trade(recorded, deps)
    assert isinstance(kept, tuple)
    simulated = await SimulatedBroker(delay_ms=0).execute(recorded.trade)
    assert isinstance(simulated, Execution)
    alpaca_fill = msgspec.structs.replace(simulated, execution_method="alpaca", alpaca_order_id="ord-1")
    later = make_deps(broker=AlpacaAgain(alpaca_fill), clock=lambda: clock[0], store=deps.store)

    settled = await execute_trade(ReconcileTrade(trade=recorded.trade), later)

    assert isinstance(settled, TradeExecuted) and settled.execution.alpaca_order_id == "ord-1"
