"""Finding a message tradeflow posted by its Slack message metadata: how a retry learns that an earlier
attempt's post (whose answer was lost) is there, before it would post again."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from workers.handlers.ports import NotifierUnavailable
from workers.slack.slack_errors import slack_error

HISTORY_PAGES = 5


async def find_posted(
    client: AsyncWebClient,
    channel: str,
    *,
    oldest: float,
    event_type: str,
    payload: dict[str, str],
    deadline_s: float,
    pages: int = HISTORY_PAGES,
) -> dict[str, Any] | None:
    """The message in `channel` since `oldest` (epoch seconds) whose metadata is `event_type` with
    `payload`, newest first; None when there is none. A history that cannot be read, or that is longer
    than `pages` pages, raises NotifierUnavailable: the notice is retried, never posted blind."""
    try:
        async with asyncio.timeout(deadline_s):
            cursor = None
            for _ in range(pages):
                page = await client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    limit=200,
                    include_all_metadata=True,
                    cursor=cursor,
                )
                messages: list[dict[str, Any]] = page.get("messages") or []
                for message in messages:
                    told = message.get("metadata") or {}
                    if told.get("event_type") == event_type and told.get("event_payload") == payload:
                        return message
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    return None
    except SlackApiError as exc:
        raise NotifierUnavailable(f"Slack history of {channel}: {slack_error(exc)}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise NotifierUnavailable(f"Slack history of {channel} unreadable: {exc!r}") from exc
    raise NotifierUnavailable(f"Slack history of {channel}: more than {pages} pages to read")
