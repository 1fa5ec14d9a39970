"""What a failed Slack Web API call means for a notice: worth a retry (NotifierUnavailable, saying whether
the message surely reached nobody), or refused for good (SlackRefused). The notifier's posts and updates,
the DM and the approvers' message alike, go through `slack_call`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from workers.handlers.ports import NoticeRefused, NotifierUnavailable

# Slack's `error` values that say "not now" rather than "never": worth the queue's retries.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# Of those, the ones after which the message may have been posted all the same (Slack's reference pages:
# "It's possible some aspect of the operation succeeded before the error was raised").
MAYBE_DONE_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable"})


class SlackRefused(NoticeRefused):
    """Slack answered `ok: false` with an error no retry is expected to mend (bad token, no such channel)."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"Slack refused {method}: {error}")
        self.method = method
        self.error = error


def slack_error(exc: SlackApiError) -> str:
    """Slack's `error` code of a failed call, or its HTTP status when the body had none."""
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {getattr(response, 'status_code', '?')}"


def call_error(exc: SlackApiError, method: str = "chat.postMessage") -> Exception:
    """The exception a failed call raises: NotifierUnavailable when worth retrying, else SlackRefused."""
    error = slack_error(exc)
    status = getattr(exc.response, "status_code", 0) or 0
    if status == 429:  # Slack did not process it
        return NotifierUnavailable(f"Slack {method}: {error}", surely_unsent=True)
    if status >= 500 or error in MAYBE_DONE_ERRORS:
        return NotifierUnavailable(f"Slack {method}: {error}")
    if error in TRANSIENT_ERRORS:
        return NotifierUnavailable(f"Slack {method}: {error}", surely_unsent=True)
    return SlackRefused(method, error)


def dm_error(exc: SlackApiError) -> Exception:
    """The exception a failed DM raises (see `call_error`)."""
    return call_error(exc, "chat.postMessage")


async def slack_call(request: Awaitable[Any], *, deadline_s: float, method: str = "chat.postMessage") -> Any:
    """Await one Web API call within `deadline_s`; its answer, or the exception its failure means."""
    try:
        async with asyncio.timeout(deadline_s):
            return await request
    except SlackApiError as exc:
        raise call_error(exc, method) from exc
    except aiohttp.ClientConnectorError as exc:  # no connection was made: nothing left
        raise NotifierUnavailable(f"Slack unreachable: {exc!r}", surely_unsent=True) from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:  # it may have been posted
        raise NotifierUnavailable(f"Slack {method} failed: {exc!r}") from exc
