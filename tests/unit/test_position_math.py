"""Position arithmetic for longs and shorts: average cost, realized P&L, flips, exact Decimal."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from messages.records import Position
from workers.handlers.position_math import apply_fill, projected_quantity

AT = datetime(2024, 1, 2, 15, 30, tzinfo=UTC)


def flat() -> Position:
    return Position(user_id="U123", symbol="AAPL", version=3)


def fill(position: Position, side: str, quantity: str | Decimal, price: str | Decimal) -> Position:
    return apply_fill(
        position,
        side=side,  # type: ignore[arg-type]
        quantity=Decimal(quantity),
        price=Decimal(price),
        trade_id=uuid.uuid4(),
        at=AT,
    )


def test_buy_then_buy_averages_the_cost() -> None:
    position = fill(fill(flat(), "buy", "100", "10.00"), "buy", "50", "13.00")
    assert position.quantity == Decimal(150)
    assert position.average_cost == Decimal("11.000000")
    assert position.realized_pnl == 0


def test_partial_sell_realizes_pnl_and_keeps_the_average() -> None:
    position = fill(fill(flat(), "buy", "100", "10.00"), "sell", "40", "12.50")
    assert position.quantity == Decimal(60)
    assert position.average_cost == Decimal("10.00")
    assert position.realized_pnl == Decimal("100.0000")


def test_full_close_resets_the_average_cost() -> None:
    position = fill(fill(flat(), "buy", "100", "10.00"), "sell", "100", "9.00")
    assert position.quantity == 0
    assert position.average_cost == 0
    assert position.realized_pnl == Decimal("-100.0000")


def test_selling_through_zero_closes_the_long_and_opens_a_short_at_the_fill() -> None:
    position = fill(fill(flat(), "buy", "100", "10.00"), "sell", "150", "11.00")
    assert position.quantity == Decimal(-50)
    assert position.average_cost == Decimal("11.00")
    assert position.realized_pnl == Decimal("100.0000")


def test_buying_through_zero_closes_the_short_and_opens_a_long_at_the_fill() -> None:
    position = fill(fill(flat(), "sell", "30", "20.00"), "buy", "50", "19.00")
    assert position.quantity == Decimal(20)
    assert position.average_cost == Decimal("19.00")
    assert position.realized_pnl == Decimal("30.0000")


def test_covering_a_short_below_its_average_realizes_a_profit() -> None:
    short = fill(fill(flat(), "sell", "100", "50.00"), "sell", "100", "52.00")
    assert short.quantity == Decimal(-200)
    assert short.average_cost == Decimal("51.000000")
    covered = fill(short, "buy", "200", "45.00")
    assert covered.quantity == 0
    assert covered.average_cost == 0
    assert covered.realized_pnl == Decimal("1200.0000")


def test_arithmetic_is_exact_decimal_with_fixed_quanta() -> None:
    position = fill(fill(flat(), "buy", "0.1", "100.01"), "buy", "0.2", "100.02")
    # (0.1 * 100.01 + 0.2 * 100.02) / 0.3 = 100.0166… → 6 dp
    assert position.average_cost == Decimal("100.016667")
    assert position.average_cost.as_tuple().exponent == -6
    closed = fill(position, "sell", "0.3", "100.03")
    assert closed.quantity == 0
    # (100.03 - 100.016667) * 0.3 = 0.0039999 → 4 dp
    assert closed.realized_pnl == Decimal("0.0040")
    assert closed.realized_pnl.as_tuple().exponent == -4
    assert all(isinstance(v, Decimal) for v in (closed.quantity, closed.average_cost, closed.realized_pnl))


def test_fill_stamps_the_trade_and_leaves_the_version_to_the_store() -> None:
    trade_id = uuid.uuid4()
    before = flat()
    after = apply_fill(before, side="buy", quantity=Decimal(1), price=Decimal(5), trade_id=trade_id, at=AT)
    assert after.version == before.version == 3
    assert after.last_trade_id == trade_id
    assert after.updated_at == AT
    assert (after.user_id, after.symbol) == (before.user_id, before.symbol)
    assert before.quantity == 0  # the input is untouched


@pytest.mark.parametrize(
    ("side", "quantity", "price"),
    [("hold", "1", "1"), ("buy", "0", "1"), ("buy", "-1", "1"), ("sell", "1", "0"), ("buy", "NaN", "1")],
)
def test_a_malformed_fill_is_refused(side: str, quantity: str, price: str) -> None:
    with pytest.raises(ValueError):
        fill(flat(), side, quantity, price)


def test_projected_quantity_signs_the_fill() -> None:
    long = fill(flat(), "buy", "10", "1")
    assert projected_quantity(long, "sell", Decimal(4)) == Decimal(6)
    assert projected_quantity(long, "sell", Decimal(15)) == Decimal(-5)
    assert projected_quantity(long, "buy", Decimal("0.5")) == Decimal("10.5")


@pytest.fixture(params=[0, 1, 2, None], ids=["seed-0", "seed-1", "seed-2", "fresh-seed"])
def seed(request: pytest.FixtureRequest) -> int:
    value = request.param if request.param is not None else random.randrange(2**32)
    print(f"position property seed: {value}")
    return int(value)


def test_realized_plus_mark_to_market_equals_cash_flow(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        position, cash, tolerance = flat(), Decimal(0), Decimal(0)
        for _ in range(rng.randint(1, 40)):
            side = rng.choice(["buy", "sell"])
            quantity = Decimal(rng.randint(1, 5_000)) / Decimal(rng.choice([1, 10, 100]))
            price = Decimal(rng.randint(100, 5_000_000)) / Decimal(10_000)
            before = position.quantity
            position = fill(position, side, quantity, price)
            cash += price * quantity if side == "sell" else -price * quantity
            # Each average-cost rounding moves the basis by at most half a 6 dp unit per share held;
            # each realization rounds by at most half a 4 dp unit.
            if before == 0 or (before > 0) == (side == "buy"):
                tolerance += Decimal("0.0000005") * abs(position.quantity)
            else:
                tolerance += Decimal("0.00005")
        final = Decimal(rng.randint(100, 5_000_000)) / Decimal(10_000)
        mark_to_market = (final - position.average_cost) * position.quantity
        total_pnl = cash + position.quantity * final
        assert abs(position.realized_pnl + mark_to_market - total_pnl) <= tolerance, f"seed={seed}"
