"""Slack's refusals: HTTP 200 with `{"ok": false, "error": …}`, except rate limits (429).

Error names come from each method's reference page (docs.slack.dev/reference/methods/…, mirrored as
JSON by slack-ruby/slack-api-ref): not_authed (no token), invalid_auth (a wrong one), channel_not_found,
no_text, invalid_arguments (with `response_metadata.messages`, e.g. "invalid `trigger_id`"),
invalid_trigger_id, expired_trigger_id, exchanged_trigger_id, hash_conflict, not_found,
duplicate_external_id, view_too_large, ratelimited (HTTP 429 with an integer Retry-After header,
docs.slack.dev/apis/web-api/rate-limits) and unknown_method (`req_method` echoes the name).
Validation messages no public sample covers are marked "(emulator wording)" where they are made.
"""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """A Web API answer with ok=false."""

    def __init__(
        self,
        error: str,
        *,
        messages: list[str] | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages
        self.status = status
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


def invalid_arguments(*messages: str) -> SlackError:
    return SlackError("invalid_arguments", messages=list(messages))


def ratelimited(retry_after_s: int) -> SlackError:
    return SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after_s)})
