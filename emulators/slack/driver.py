"""Slack's side of the conversation: signed requests to the app's Request URL, exactly as Slack sends
them (see payloads.py for the shapes and their sources), with trigger ids minted in the emulator so the
app's views.open accepts each one once, within its lifetime.

Sending methods are async (the app may serve on the test's own event loop); the readers of what the
app did in Slack (`opened_view`, `messages_to`, `home_view`, …) are plain calls, for `eventually`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import aiohttp

from emulators.slack import filling, payloads
from emulators.slack.admin_client import AdminClient
from emulators.slack.runner import SlackEmulator

DEFAULT_USER_ID = "U0TRADER01"
T = TypeVar("T")


class AckTimeout(TimeoutError):
    """The app did not answer within the ack deadline (Slack's is 3 seconds)."""


@dataclass(frozen=True)
class AppResponse:
    """The app's answer to one request from Slack."""

    status: int
    body: Any  # the parsed JSON, else the text ("" for an empty ack)
    headers: dict[str, str]
    elapsed_s: float
    trigger_id: str | None = None  # the trigger the request carried (slash commands, interactivity)
    # view_submission only: what Slack's client did with the answer, {outcome, problem, record, pushed};
    # outcome is "close", "update", "errors", "push", "clear", "app_error" or "invalid_response".
    view_outcome: dict[str, Any] | None = None


class SlackDriver:
    def __init__(
        self,
        ingress_url: str,
        signing_secret: str,
        emulator: SlackEmulator | AdminClient,
        *,
        user_id: str = DEFAULT_USER_ID,
        user_name: str = "trader",
        ack_timeout_s: float = 3.0,
    ) -> None:
        self.ingress_url = ingress_url
        self.signing_secret = signing_secret
        self.admin = emulator.admin if isinstance(emulator, SlackEmulator) else emulator
        self.user_id = user_id
        self.user_name = user_name
        self.ack_timeout_s = ack_timeout_s

    async def _admin(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(call, *args, **kwargs)

    def _user(self, user_id: str | None) -> tuple[str, str]:
        user_id = user_id or self.user_id
        return user_id, self.user_name if user_id == self.user_id else user_id.lower()

    # -- the raw request ----------------------------------------------------------------------

    async def post_signed(
        self,
        body: str | bytes,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> AppResponse:
        """POST `body` to the Request URL, signed now with the secret unless told otherwise (to forge)."""
        text = body.decode() if isinstance(body, bytes) else body
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or payloads.sign(self.signing_secret, stamp, text),
            **(headers or {}),
        }
        started = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=self.ack_timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self.ingress_url, data=text.encode(), headers=sent) as response,
            ):
                raw = await response.text()
                answer_headers = dict(response.headers)
                status = response.status
        except TimeoutError:
            raise AckTimeout(f"no answer from {self.ingress_url} within {self.ack_timeout_s}s") from None
        try:
            parsed: Any = json.loads(raw) if raw.strip() else ""
        except ValueError:
            parsed = raw
        return AppResponse(status, parsed, answer_headers, time.monotonic() - started)

    # -- what a user does ---------------------------------------------------------------------

    async def slash_command(
        self,
        text: str = "",
        *,
        command: str = "/trade",
        user_id: str | None = None,
        channel_id: str | None = None,
        channel_name: str | None = None,
    ) -> AppResponse:
        """The user types `{command} {text}` in a channel (by default the workspace's first one)."""
        user = self._user(user_id)
        config = await self._admin(self.admin.config)
        if channel_id is None:
            channel_id, channel_name = next(iter(config["channels"].items()))
        elif not channel_id.startswith("D"):
            channel_name = (await self._admin(self.admin.add_channel, channel_id, channel_name))["name"]
        trigger_id = await self._admin(self.admin.mint_trigger, user[0])
        hook = await self._admin(
            self.admin.response_url, kind="commands", user_id=user[0], channel_id=channel_id
        )
        body = payloads.slash_command(
            config,
            command=command,
            text=text,
            user=user,
            channel=(channel_id, channel_name or "directmessage"),
            trigger_id=trigger_id,
            response_url=hook,
        )
        return replace(await self.post_signed(body, payloads.FORM), trigger_id=trigger_id)

    async def submit_view(
        self, view: dict[str, Any] | str, values: dict[str, Any] | None = None
    ) -> AppResponse:
        """The user fills the modal (`{block_id: value}`, select values by option value) and submits it.

        Inputs not in `values` keep what the modal shows: an earlier submission's entry, else the
        element's initial value. The submission carries the view as Slack holds it now (its current
        hash); afterwards the emulator applies the app's answer (close, update, errors, push, clear).
        Raises ValueError for what Slack's client would not submit, AckTimeout past the deadline.
        """
        record = await self._admin(self.admin.view, view if isinstance(view, str) else view["id"])
        if record["status"] != "open":
            raise ValueError(f"view {record['id']} is {record['status']}: there is nothing to submit")
        current = record["view"]
        state = filling.state_values(current, values or {}, kept=current["state"]["values"])
        user = self._user(record["user_id"])
        config = await self._admin(self.admin.config)
        trigger_id = await self._admin(self.admin.mint_trigger, user[0])
        payload = payloads.view_submission(config, current, state, user=user, trigger_id=trigger_id)
        response = await self.post_signed(payloads.interactive(payload), payloads.FORM)
        outcome = await self._admin(
            self.admin.answer_view, current["id"], state=state, status=response.status, body=response.body
        )
        return replace(response, trigger_id=trigger_id, view_outcome=outcome)

    async def block_action(
        self, source: dict[str, Any], action_id: str, value: Any = None, *, user_id: str | None = None
    ) -> AppResponse:
        """The user clicks a button or picks an option (`value`) in a view (modal or App Home) or in
        a message from `messages_to`."""
        if "ts" in source and "channel" in source:
            return await self._message_action(source, action_id, value, user_id)
        record = await self._admin(self.admin.view, source["id"])
        block, element = filling.find_element(record["view"]["blocks"], action_id)
        user = self._user(user_id or record["user_id"])
        config = await self._admin(self.admin.config)
        trigger_id = await self._admin(self.admin.mint_trigger, user[0])
        action = filling.block_action(block, element, value, f"{time.time():.6f}")
        payload = payloads.block_actions(
            config, action, user=user, trigger_id=trigger_id, view=record["view"]
        )
        return replace(
            await self.post_signed(payloads.interactive(payload), payloads.FORM), trigger_id=trigger_id
        )

    async def _message_action(
        self, message: dict[str, Any], action_id: str, value: Any, user_id: str | None
    ) -> AppResponse:
        block, element = filling.find_element(message.get("blocks") or [], action_id)
        user = self._user(user_id or message.get("user"))
        config = await self._admin(self.admin.config)
        channel = (message["channel"], config["channels"].get(message["channel"], "directmessage"))
        trigger_id = await self._admin(self.admin.mint_trigger, user[0])
        hook = await self._admin(
            self.admin.response_url, kind="actions", user_id=user[0], channel_id=channel[0]
        )
        shown = {
            "type": "message",
            "user": config["bot_user_id"],
            "bot_id": config["bot_id"],
            "app_id": config["app_id"],
            "team": config["team_id"],
            "ts": message["ts"],
            "text": message.get("text") or "",
            "blocks": message.get("blocks") or [],
        }
        action = filling.block_action(block, element, value, f"{time.time():.6f}")
        payload = payloads.block_actions(
            config,
            action,
            user=user,
            trigger_id=trigger_id,
            message=shown,
            channel=channel,
            response_url=hook,
        )
        return replace(
            await self.post_signed(payloads.interactive(payload), payloads.FORM), trigger_id=trigger_id
        )

    # -- events -------------------------------------------------------------------------------

    async def send_event(self, event: dict[str, Any], *, retry_num: int | None = None) -> AppResponse:
        """Deliver an Events API event in its event_callback envelope (a redelivery with `retry_num`)."""
        config = await self._admin(self.admin.config)
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        body = json.dumps(payloads.event_callback(config, event))
        return await self.post_signed(body, payloads.JSON, headers=headers)

    async def app_home_opened(self, user_id: str | None = None, *, tab: str = "home") -> AppResponse:
        """The user opens the app's Home tab (or its Messages tab); the event carries the Home view
        once one was published."""
        user = self._user(user_id)[0]
        channel_id = await self._admin(self.admin.dm_channel, user)
        homes = await self._admin(self.admin.home_views, user)
        view = homes[-1] if homes and tab == "home" else None
        return await self.send_event(payloads.app_home_opened(user, channel_id, tab, view))

    async def url_verification(self, challenge: str | None = None) -> AppResponse:
        config = await self._admin(self.admin.config)
        body = payloads.url_verification(config, challenge or secrets.token_urlsafe(36))
        return await self.post_signed(json.dumps(body), payloads.JSON)

    async def ssl_check(self) -> AppResponse:
        config = await self._admin(self.admin.config)
        return await self.post_signed(payloads.ssl_check(config), payloads.FORM)

    # -- what the app did in Slack ------------------------------------------------------------

    def opened_view(self, trigger_id: str) -> dict[str, Any] | None:
        """The view the app opened with this trigger, as Slack holds it now; None if none was."""
        records = self.admin.views(trigger_id=trigger_id)
        return records[-1]["view"] if records else None

    def last_view_opened(self, user_id: str | None = None) -> dict[str, Any] | None:
        records = [
            r for r in self.admin.views(user_id=user_id or self.user_id, kind="modal") if r["trigger_id"]
        ]
        return records[-1]["view"] if records else None

    def view_record(self, view_id: str) -> dict[str, Any]:
        """{id, type, user_id, trigger_id, status ("open"/"closed"), closed_reason, errors, view, …}."""
        return self.admin.view(view_id)

    def messages_to(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """The messages the app posted in the user's DM, oldest first."""
        return self.admin.messages(user=user_id or self.user_id, kind="message")

    def home_view(self, user_id: str | None = None) -> dict[str, Any] | None:
        homes = self.admin.home_views(user_id or self.user_id)
        return homes[-1] if homes else None
