"""Run the emulator on loopback in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import msgspec
from aiohttp import web

from emulators.slack.admin_client import AdminClient
from emulators.slack.app import create_app
from emulators.slack.config import EmulatorConfig
from emulators.slack.workspace import Workspace

SHUTDOWN_TIMEOUT_S = 1.0


class SlackEmulator:
    """A Slack Web API emulator: `start()` it, point slack-sdk's `base_url` at `api_url`, `stop()` it.

    Keyword arguments are EmulatorConfig fields (bot_token, signing_secret, trigger_ttl_s, post_burst,
    post_per_s, channels, team_id, …). Port 0 picks a free port; `port` holds the real one once started.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
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
    def api_url(self) -> str:
        """slack-sdk's `base_url` (SLACK_API_URL): the trailing slash matters, it joins method names."""
        return f"{self.origin}/api/"

    @property
    def bot_token(self) -> str:
        return self.config.bot_token

    @property
    def signing_secret(self) -> str:
        return self.config.signing_secret

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.origin)

    def environment(self) -> dict[str, str]:
        """The tradeflow settings (DESIGN §7) that point at this emulator."""
        return {
            "SLACK_API_URL": self.api_url,
            "SLACK_BOT_TOKEN": self.bot_token,
            "SLACK_SIGNING_SECRET": self.signing_secret,
        }

    # -- running ----------------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        started = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, args=(started, failure), name="slack-emulator", daemon=True
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
        self._runner = await open_site(Workspace(self.config), self.host, self.port)
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = self._runner = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def open_site(workspace: Workspace, host: str, port: int) -> web.AppRunner:
    """Serve the emulator's app on host:port in the running loop; the caller cleans up the runner."""
    runner = web.AppRunner(create_app(workspace), handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
