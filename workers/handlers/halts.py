"""Whether a trade may go: the desk's kill switch, its account's (`tradeflow halt --account`) and its
trader's (`tradeflow halt --user`, or a day-loss limit's automatic REDUCING halt)."""

from __future__ import annotations

from messages.records import KillSwitch
from workers.store.port import TradeStore


async def halt_of(store: TradeStore, account: str | None, user_id: str | None = None) -> KillSwitch:
    """The switch that stops a trade by `user_id` in `account` (its name even on a desk of one account,
    TradingPolicy.account_of: a day-loss limit halts it by name): a full halt before a REDUCING one, the
    desk's before the account's before the trader's; the desk's (disengaged) when none is engaged."""
    desk = await store.get_kill_switch()
    if desk.engaged and desk.mode == "halted":
        return desk
    switches = [desk]
    if account is not None:
        switches.append(await store.get_kill_switch(account))
    if user_id is not None:
        switches.append(await store.get_kill_switch(user_id=user_id))
    engaged = [switch for switch in switches if switch.engaged]
    halted = [switch for switch in engaged if switch.mode == "halted"]
    return (halted or engaged or [desk])[0]


async def halted_traders(store: TradeStore) -> dict[str, str]:
    """Each trader on the roster whose own switch is engaged, and its mode (halted, reducing): one read per
    user, a desk's few dozen (`tradeflow health`)."""
    roster = await store.get_roster()
    halted: dict[str, str] = {}
    for user in sorted(roster.users):
        switch = await store.get_kill_switch(user_id=user)
        if switch.engaged:
            halted[user] = switch.mode
    return halted
