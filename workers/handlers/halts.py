"""Whether a trade may go: the desk's kill switch, then its account's own (`tradeflow halt --account`)."""

from __future__ import annotations

from messages.records import KillSwitch
from workers.store.port import TradeStore


async def halt_of(store: TradeStore, account: str | None) -> KillSwitch:
    """The switch that halts a trade in `account`: the desk's when engaged, else the account's."""
    desk = await store.get_kill_switch()
    if desk.engaged or account is None:
        return desk
    return await store.get_kill_switch(account)
