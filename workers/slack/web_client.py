"""slack-sdk's AsyncWebClient on one HTTP session for all of its calls.

Without a session of its own, slack-sdk opens an aiohttp session, and so a new connection, for every call:
three per trade notice. The session is opened on the first call, on the event loop making it (an aiohttp
session belongs to its loop), and `close()` ends it. Its calls are traced by OpenTelemetry's aiohttp-client
instrumentation (telemetry/instrumentation.py), which the session picks up when it is opened.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient


class SessionWebClient(AsyncWebClient):
    async def api_call(self, api_method: str, *args: Any, **kwargs: Any) -> Any:
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return await super().api_call(api_method, *args, **kwargs)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
