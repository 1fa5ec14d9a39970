"""slack-sdk's AsyncWebClient with a CLIENT span around every Web API call (chat.*, views.*, auth.test)."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from telemetry.client_spans import client_span


class TracedAsyncWebClient(AsyncWebClient):
    async def api_call(self, api_method: str, *args: Any, **kwargs: Any) -> Any:
        with client_span("slack", api_method, **{"server.address": self.base_url}):
            return await super().api_call(api_method, *args, **kwargs)
