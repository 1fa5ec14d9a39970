"""Execution cost figures shared by every stock broker: slippage and estimated market impact, in bps."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from messages.types import Side

BPS_QUANTUM = Decimal("0.01")
MS_QUANTUM = Decimal("0.1")
BPS_PER_UNIT = Decimal(10_000)

# Square-root impact: IMPACT_COEFFICIENT_BPS * sqrt(notional / IMPACT_NOTIONAL_SCALE).
# $1M of notional costs 2 bps; 100 shares of a $190 stock ($19,000) about 0.28 bps.
IMPACT_COEFFICIENT_BPS = Decimal(2)
IMPACT_NOTIONAL_SCALE = Decimal(1_000_000)


def market_impact_bps(notional: Decimal) -> Decimal:
    """Estimate an order's market impact in bps with the square-root model, to 2 dp.

    `2 * sqrt(notional / 1_000_000)`: $1M costs 2 bps, $10k costs 0.2 bps. A paper fill moves no real
    market, so the same estimate serves the simulation and Alpaca paper trading alike.
    """
    return (IMPACT_COEFFICIENT_BPS * (notional / IMPACT_NOTIONAL_SCALE).sqrt()).quantize(BPS_QUANTUM)


def adverse_bps(side: Side, price: Decimal, reference: Decimal) -> Decimal:
    """How far `price` is from `reference` against the trader, in bps to 2 dp (negative when in favour)."""
    signed = price - reference if side == "buy" else reference - price
    return (signed / reference * BPS_PER_UNIT).quantize(BPS_QUANTUM, rounding=ROUND_HALF_EVEN)
