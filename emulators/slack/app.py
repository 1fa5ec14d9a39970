"""The aiohttp application: the Web API under /api/, response_urls, and the admin API under /admin."""

from __future__ import annotations

from aiohttp import web

from emulators.slack import admin, web_api
from emulators.slack.workspace import Workspace


def create_app(workspace: Workspace) -> web.Application:
    app = web.Application()
    app[web_api.WORKSPACE] = workspace
    web_api.add_routes(app)
    admin.add_routes(app)
    return app
