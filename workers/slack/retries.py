"""slack-sdk retry handlers that never post a message twice, and keep 429 waits within the notice's lease.

slack-sdk's own AsyncConnectionErrorRetryHandler (on by default in every AsyncWebClient) sends a request again
after a dropped connection or a reset: for `chat.postMessage` that posts a second DM whenever the first one
landed and only its answer was lost. Here a post is sent again only when its connection was never made.
"""

from __future__ import annotations

import math

from aiohttp import ClientConnectorError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Web API methods whose every call adds a message: never resent once the request may have left.
POSTING_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage"})


def method_of(request: HttpRequest) -> str:
    """The Web API method a request calls (`…/api/chat.postMessage` → `chat.postMessage`)."""
    return request.url.rstrip("/").rpartition("/")[2].partition("?")[0]


class NoResendConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """slack-sdk's connection-error retry, except for a post that may have reached Slack.

    A posting method is retried only after ClientConnectorError (no connection was made, so nothing was
    sent); reads, views.update and views.publish (the same view again) are retried as slack-sdk would.
    """

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if method_of(request) in POSTING_METHODS:
            return isinstance(error, ClientConnectorError)
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


class BoundedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's 429 handling (sleep Retry-After, try again), refusing to sleep longer than `max_wait_s`.

    A longer Retry-After would outlast the notification's lease: the queue's backoff retries later instead.
    A 429 is safe to resend: Slack did not process the request.
    """

    def __init__(self, max_retry_count: int, max_wait_s: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_s = max_wait_s

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after_s(response) <= self.max_wait_s


def retry_after_s(response: HttpResponse) -> float:
    """Slack's Retry-After in whole seconds (absent: 1); infinite when unreadable, so it is not retried."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return float(int(str(value)))
            except ValueError:
                return math.inf
    return 1.0
