"""One recheck chain per trade whose order may or may not exist (`unknown`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from messages.events import ReconcileTrade
from workers.handlers.deps import Deps
from workers.store.port import LeaseClaim

logger = logging.getLogger("tradeflow.stage.execution")

# A scheduled recheck's claim outlives its chain (an unknown order is given up 15 minutes after the trade
# was recorded: execution.UNKNOWN_GIVE_UP), then expires by itself.
RECHECK_CLAIM_MS = int(timedelta(minutes=30).total_seconds() * 1000)


async def one_recheck(recheck: ReconcileTrade, deps: Deps) -> ReconcileTrade | None:
    """The next recheck, unless another delivery already scheduled this attempt (None then).

    A duplicate delivery of a recheck (at least once), or a second chain started at a worker's start, would
    otherwise schedule its own next recheck: the chains would multiply with every duplicate, each looking
    the order up, until they spend the account's Alpaca budget (the fault campaign saw 276 live rechecks
    of one trade, and every other trade waiting behind them). At most one message per trade and attempt.
    """
    claim = f"recheck#{recheck.trade.trade_id}#{recheck.attempt}"
    now_ms = int(deps.clock().timestamp() * 1000)
    taken = await deps.store.claim_lease_over(claim, now_ms=now_ms, lease_ms=RECHECK_CLAIM_MS)
    if taken is LeaseClaim.HELD:
        logger.debug("Recheck %d of the trade already scheduled by another delivery", recheck.attempt)
        return None
    return recheck
