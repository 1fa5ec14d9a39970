"""Run the emulator on loopback in a background thread with its own event loop."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from emulators.alpaca.admin_client import AdminClient
from emulators.alpaca.app import create_app
from emulators.alpaca.config import EmulatorConfig, starting_cash_from_env
from emulators.alpaca.exchange import Exchange
from emulators.background import BackgroundServer, serve_app


class AlpacaEmulator(BackgroundServer):
    """An Alpaca paper-trading emulator: `start()` it, point alpaca-py at its URLs, `stop()` it.

    Keyword arguments are EmulatorConfig fields (seed, starting_cash, fill_delay_ms, partial_fills,
    tick_interval_ms, market_open, non_tradable, accounts, …); starting_cash defaults to
    ALPACA_STARTING_CASH. `accounts` adds paper accounts beside the default one, e.g.
    accounts=[{"name": "desk2", "key_id": "PKEMULATOR00000000002", "secret_key": "…"}].
    Port 0 picks a free port; `port` holds the real one once started.
    """

    thread_name = "alpaca-emulator"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        settings.setdefault("starting_cash", starting_cash_from_env())
        self.config = msgspec.convert(settings, EmulatorConfig, strict=False)
        super().__init__(host, port)

    # -- where clients connect --------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The trading base URL (ALPACA_PAPER_BASE_URL): contains /paper, like Alpaca's paper host."""
        return f"{self.origin}/paper"

    @property
    def data_url(self) -> str:
        """The market data base URL (ALPACA_DATA_BASE_URL)."""
        return self.origin

    @property
    def stream_url(self) -> str:
        """The trade_updates websocket (TradingStream's url_override)."""
        return f"ws://{self.host}:{self.port}/paper/stream"

    @property
    def key_id(self) -> str:
        return self.config.key_id

    @property
    def secret_key(self) -> str:
        return self.config.secret_key

    def credentials(self, account: str) -> tuple[str, str]:
        """The key id and secret of the account named `account` ("default": the first one)."""
        for spec in self.config.account_specs():
            if spec.name == account:
                return spec.key_id, spec.secret_key
        raise KeyError(f"no account named {account!r}")

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.origin)

    def environment(self) -> dict[str, str]:
        """The tradeflow settings (DESIGN §7) that point at this emulator."""
        return {
            "ALPACA_PAPER_API_KEY": self.key_id,
            "ALPACA_PAPER_SECRET_KEY": self.secret_key,
            "ALPACA_PAPER_BASE_URL": self.base_url,
            "ALPACA_DATA_BASE_URL": self.data_url,
        }

    def make_app(self) -> web.Application:
        return create_app(Exchange(self.config))


async def open_site(exchange: Exchange, host: str, port: int) -> web.AppRunner:
    """Serve the emulator's app on host:port in the running loop; the caller cleans up the runner."""
    return await serve_app(create_app(exchange), host, port)
