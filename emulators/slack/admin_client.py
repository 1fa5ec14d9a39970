"""A small synchronous client for the emulator's admin API (urllib only), for tests and tooling."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from emulators.admin_http import AdminError, AdminHttp

__all__ = ["AdminClient", "AdminError"]


class AdminClient(AdminHttp):
    # -- state ------------------------------------------------------------------------------

    def configure(self, **changes: Any) -> dict[str, Any]:
        """E.g. configure(trigger_ttl_s=0.2, post_burst=1, post_per_s=0.5)."""
        return self._call("POST", "/config", changes)

    # -- faults -----------------------------------------------------------------------------

    def add_fault(self, kind: str, **fields: Any) -> dict[str, Any]:
        """E.g. add_fault("http_error", status=503, method="views.update", times=1)."""
        return self._call("POST", "/faults", {"kind": kind, **fields})

    def rate_limit(self, method: str, *, times: int = 1, retry_after_s: int = 1) -> dict[str, Any]:
        """The next `times` calls of `method` answer 429 with `Retry-After: retry_after_s`."""
        return self.add_fault("ratelimited", method=method, times=times, retry_after_s=retry_after_s)

    def ambiguous_post(
        self,
        method: str = "chat.postMessage",
        *,
        times: int | None = 1,
        hold_s: float = 30.0,
        channel: str = "*",
    ) -> dict[str, Any]:
        """The next `times` calls of `method` (to `channel`, a glob) take effect and are never answered: the
        connection stays open and silent until the client gives up (or `hold_s` passes). The poster cannot
        tell it posted."""
        return self.add_fault(
            "no_answer", method=method, phase="after", times=times, hold_s=hold_s, channel=channel
        )

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # -- what the app called ----------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Every Web API call received, in order: method, params, token, status, response, fault, at."""
        return self._call("GET", "/calls", query={"method": method})

    def call_count(self, method: str) -> int:
        return len(self.calls(method))

    def clear_calls(self) -> None:
        self._call("DELETE", "/calls")

    # -- Slack's side -----------------------------------------------------------------------

    def mint_trigger(self, user_id: str, *, team_id: str | None = None) -> str:
        """A fresh trigger_id for the user, as an interaction would give the app."""
        return self._call("POST", "/triggers", {"user_id": user_id, "team_id": team_id})["trigger_id"]

    def trigger(self, trigger_id: str) -> dict[str, Any]:
        """{trigger_id, user_id, age_s, exchanged, view_id, exchanged_after_s, …}."""
        return self._call("GET", f"/triggers/{urllib.parse.quote(trigger_id)}")

    def views(
        self,
        *,
        user_id: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        trigger_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """View records in open order: {id, type, user_id, trigger_id, status, errors, …, view}."""
        query = {"user_id": user_id, "type": kind, "status": status, "trigger_id": trigger_id}
        return self._call("GET", "/views", query=query)

    def view(self, view_id: str) -> dict[str, Any]:
        return self._call("GET", f"/views/{view_id}")

    def close_view(self, view_id: str, *, reason: str = "closed_by_user") -> dict[str, Any]:
        """The user closes the modal: views.update on it answers not_found from now on."""
        return self._call("POST", f"/views/{view_id}/close", {"reason": reason})

    def answer_view(
        self, view_id: str, *, state: dict[str, Any] | None, status: int, body: Any
    ) -> dict[str, Any]:
        """Apply an app's answer to a view_submission; returns {outcome, problem, record, pushed}."""
        return self._call(
            "POST", f"/views/{view_id}/answer", {"state": state, "status": status, "body": body}
        )

    def messages(
        self,
        *,
        channel: str | None = None,
        user: str | None = None,
        kind: str | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """What the app posted: {kind, channel, user, ts, text, blocks, attachments, thread_ts, metadata,
        answer_lost, params}; `answer_lost` names the fault that lost the post's answer (else null).

        `offset` skips the first messages posted (whatever the filters), so a poller reads only new ones.
        """
        query = {"channel": channel, "user": user, "kind": kind, "offset": str(offset) if offset else None}
        return self._call("GET", "/messages", query=query)

    def home_views(self, user_id: str) -> list[dict[str, Any]]:
        """Every App Home view published to the user, oldest first."""
        return self._call("GET", f"/home/{user_id}")

    def channels(self) -> dict[str, str]:
        return self._call("GET", "/channels")

    def add_channel(self, channel_id: str, name: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/channels", {"id": channel_id, "name": name})

    def dm_channel(self, user_id: str) -> str:
        """The user's DM channel with the bot (opened if needed), as chat.postMessage to the user uses."""
        return self._call("POST", "/dms", {"user_id": user_id})["channel"]

    def response_url(self, *, kind: str, user_id: str, channel_id: str) -> str:
        return self._call(
            "POST", "/response-urls", {"kind": kind, "user_id": user_id, "channel_id": channel_id}
        )["response_url"]
