"""Run the emulator on loopback in a background thread with its own event loop."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from emulators.background import BackgroundServer, serve_app
from emulators.slack.admin_client import AdminClient
from emulators.slack.app import create_app
from emulators.slack.config import EmulatorConfig
from emulators.slack.workspace import Workspace


class SlackEmulator(BackgroundServer):
    """A Slack Web API emulator: `start()` it, point slack-sdk's `base_url` at `api_url`, `stop()` it.

    Keyword arguments are EmulatorConfig fields (bot_token, signing_secret, trigger_ttl_s, post_burst,
    post_per_s, channels, team_id, …). Port 0 picks a free port; `port` holds the real one once started.
    """

    thread_name = "slack-emulator"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        self.config = msgspec.convert(settings, EmulatorConfig, strict=False)
        super().__init__(host, port)

    # -- where clients connect --------------------------------------------------------------

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

    def make_app(self) -> web.Application:
        return create_app(Workspace(self.config))


async def open_site(workspace: Workspace, host: str, port: int) -> web.AppRunner:
    """Serve the emulator's app on host:port in the running loop; the caller cleans up the runner."""
    return await serve_app(create_app(workspace), host, port)
