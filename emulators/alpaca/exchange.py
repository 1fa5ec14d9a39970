"""The shared market: the clock and its sessions, the price paths, the asset catalog, the trade_updates
sockets, and the paper accounts (brokerage.Brokerage) that trade in it, one per API key pair.

Everything lives on the server's one event loop, so nothing here needs a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from emulators.alpaca.assets import AssetCatalog
from emulators.alpaca.brokerage import Brokerage
from emulators.alpaca.clock import MarketClock
from emulators.alpaca.config import EmulatorConfig, updated
from emulators.alpaca.market import PriceBook
from emulators.alpaca.sessions import Session
from emulators.alpaca.stream import TradeUpdatesHub

HEARTBEAT_S = 0.05


class Exchange:
    def __init__(self, config: EmulatorConfig) -> None:
        self.baseline = config
        self.hub = TradeUpdatesHub(self._account_name)
        self._heartbeat: asyncio.Task[None] | None = None
        self._install(config)

    def _install(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = MarketClock(is_open=config.market_open)
        self.prices = PriceBook(seed=config.seed, step_bps=config.step_bps, spread_bps=config.spread_bps)
        self.assets = AssetCatalog(non_tradable=config.non_tradable, extra_symbols=config.extra_symbols)
        self.accounts = {
            spec.name: Brokerage(self, spec, first=index == 0)
            for index, spec in enumerate(config.account_specs())
        }

    # -- the accounts -----------------------------------------------------------------------

    @property
    def first(self) -> Brokerage:
        """The default account: the one the admin views show unless asked for another."""
        return next(iter(self.accounts.values()))

    def authenticate(self, key: Any, secret: Any) -> Brokerage | None:
        """The account whose key pair this is, if any."""
        for brokerage in self.accounts.values():
            if (key, secret) == (brokerage.spec.key_id, brokerage.spec.secret_key):
                return brokerage
        return None

    def _account_name(self, key: Any, secret: Any) -> str | None:
        brokerage = self.authenticate(key, secret)
        return brokerage.name if brokerage is not None else None

    def find(self, name_or_key: str | None) -> Brokerage | None:
        """An account by its name or its key id; None (not given): the default one."""
        if not name_or_key:
            return self.first
        for brokerage in self.accounts.values():
            if name_or_key in (brokerage.name, brokerage.spec.key_id):
                return brokerage
        return None

    # -- administration ---------------------------------------------------------------------

    async def reset(self, changes: dict[str, Any] | None = None) -> None:
        """Forget every order, position, fault, request and rate-limit window of every account; start again
        from the start config."""
        config = updated(self.baseline, changes or {})
        for brokerage in self.accounts.values():
            brokerage.engine.stop()
        await self.hub.close_all()
        self._install(config)

    def reconfigure(self, changes: dict[str, Any]) -> None:
        """Change settings now; starting_cash, seed and accounts take effect at the next reset."""
        config = updated(self.config, changes)
        self.config = config
        if "account_number" in changes:  # the account turns live (or paper again) at once, orders kept
            account = self.first.account
            account.account_number = config.account_number or account.paper_number
        self.prices.configure(step_bps=config.step_bps, spread_bps=config.spread_bps)
        self.assets = AssetCatalog(non_tradable=config.non_tradable, extra_symbols=config.extra_symbols)
        if "market_open" in changes and config.market_open != self.clock.is_open:
            self.set_market_open(config.market_open)

    def set_market_open(self, is_open: bool, **schedule: Any) -> None:
        old = self.clock.session
        if is_open:
            self.clock.set_open(**schedule)
        else:
            self.clock.set_closed(**schedule)
        self._session_changed(old)

    def set_session(self, session: Session) -> None:
        old = self.clock.session
        self.clock.set_session(session)
        self._session_changed(old)

    def _session_changed(self, old: Session) -> None:
        for brokerage in self.accounts.values():
            brokerage.engine.session_changed(old)

    def on_prices(self, symbols: list[str]) -> None:
        """Resting orders of every account in symbols whose price just moved are looked at again."""
        for brokerage in self.accounts.values():
            brokerage.engine.on_prices(symbols)

    # -- time passing -----------------------------------------------------------------------

    def start(self) -> None:
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def stop(self) -> None:
        for brokerage in self.accounts.values():
            brokerage.engine.stop()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        await self.hub.close_all()

    async def _beat(self) -> None:
        """Move prices every tick; with auto_clock, open and close the market on its schedule."""
        last_tick = time.monotonic()
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            interval = self.config.tick_interval_ms / 1000
            if interval and time.monotonic() - last_tick >= interval:
                last_tick = time.monotonic()
                self.on_prices(self.prices.step())
            due = self.clock.due() if self.config.auto_clock else None
            if due is not None:
                self.set_market_open(due == "open")
