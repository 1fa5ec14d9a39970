"""Run the emulator on loopback in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import msgspec
from aiohttp import web

from emulators.alpaca.admin_client import AdminClient
from emulators.alpaca.app import create_app
from emulators.alpaca.brokerage import Brokerage
from emulators.alpaca.config import EmulatorConfig, starting_cash_from_env

SHUTDOWN_TIMEOUT_S = 1.0


class AlpacaEmulator:
    """An Alpaca paper-trading emulator: `start()` it, point alpaca-py at its URLs, `stop()` it.

    Keyword arguments are EmulatorConfig fields (seed, starting_cash, fill_delay_ms, partial_fills,
    tick_interval_ms, market_open, non_tradable, …); starting_cash defaults to ALPACA_STARTING_CASH.
    Port 0 picks a free port; `port` holds the real one once started.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        settings.setdefault("starting_cash", starting_cash_from_env())
        self.config = msgspec.convert(settings, EmulatorConfig, strict=False)
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # -- where clients connect --------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

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

    # -- running ----------------------------------------------------------------------------

    def start(self) -> AlpacaEmulator:
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        started = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, args=(started, failure), name="alpaca-emulator", daemon=True
        )
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def _serve(self, started: threading.Event, failure: list[BaseException]) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._open())
        except BaseException as exc:
            failure.append(exc)
            started.set()
            self._loop.close()
            return
        started.set()
        self._loop.run_forever()
        self._loop.close()

    async def _open(self) -> None:
        self._runner = await open_site(Brokerage(self.config), self.host, self.port)
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = self._runner = None

    def __enter__(self) -> AlpacaEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def open_site(brokerage: Brokerage, host: str, port: int) -> web.AppRunner:
    """Serve the emulator's app on host:port in the running loop; the caller cleans up the runner."""
    runner = web.AppRunner(create_app(brokerage), handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
