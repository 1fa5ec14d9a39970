"""SlackNotifier: the Notifier port on Slack's Web API — DM the trader, update their modal, refresh App Home.

The DM is the notification of record: when it cannot be sent, `notify` raises and the queue retries the
whole notification. The modal update and the App Home refresh are courtesies: their failures are logged
and never fail the notification (a modal the trader already closed answers `not_found`, which is normal).

Errors of the DM:
- network failures, timeouts, HTTP 5xx, Slack's transient errors and `ratelimited` once the 429 retries
  are spent raise `NotifierUnavailable`: transient, retried with backoff by the queue, then dead-lettered.
  It says whether the DM is surely unsent: only when Slack refused it before acting (429, `request_timeout`)
  or no connection was made. A timeout, a dropped connection, a 5xx, `internal_error` or `fatal_error`
  ("some aspect of the operation may have succeeded") may hide a DM that was posted: the next attempt
  reads the DM history by the message metadata (`already_told`) before sending again;
- any other `ok: false` answer (`invalid_auth`, `not_authed`, `account_inactive`, `channel_not_found`, …)
  raises `SlackRefused` (a NoticeRefused: nothing was posted). No retry is expected to mend those, but
  they are not `PermanentError`s: they are retried a bounded number of times like any unrecognised error
  (a token fixed meanwhile lets one through) and then dead-lettered with the reason, for `tradeflow dlq
  replay` once the configuration is fixed.
slack-sdk never resends the post itself after the request may have left (retries.py). The approvers'
channel (approval_desk.py) is posted to and updated with the same errors and the same history check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from messages.events import ApprovalDecided, ApprovalRequested, CancelRefused, TradeHeld
from workers.handlers.ports import ApprovalPost, Notice, NotifierUnavailable, RoleReader, notice_of
from workers.slack.approval_blocks import notice_message
from workers.slack.approval_desk import ApprovalDesk
from workers.slack.history import find_posted
from workers.slack.home import PriceLookup, publish_home, publish_home_for
from workers.slack.home_refresh import HomeRefresher
from workers.slack.retries import BoundedRateLimitRetryHandler, NoResendConnectionErrorRetryHandler
from workers.slack.slack_errors import (
    MAYBE_DONE_ERRORS,
    TRANSIENT_ERRORS,
    SlackRefused,
    dm_error,
    slack_call,
    slack_error,
)
from workers.slack.views import outcome_view
from workers.slack.web_client import SessionWebClient
from workers.store.port import TradeStore

logger = logging.getLogger("tradeflow.notifications.slack")

# views.update on a modal the trader closed (or that Slack dropped): nothing left to update.
MODAL_GONE_ERRORS = frozenset({"not_found", "view_not_found"})


# Each DM carries Slack message metadata naming its trade and notice, so a retry can find what was posted.
NOTICE_EVENT = "tradeflow_trade_notice"
HISTORY_SLACK_S = 60.0  # read the DM history from a minute before the trade was submitted
__all__ = [
    "MAYBE_DONE_ERRORS",
    "TRANSIENT_ERRORS",
    "SlackNotifier",
    "SlackRefused",
    "dm_error",
    "notice_payload",
    "slack_error",
]


def notice_payload(outcome: Notice) -> dict[str, str]:
    """What a DM's metadata says: which trade, and which notice ("working", or the "outcome")."""
    return {"trade_id": str(outcome.trade.trade_id), "notice": notice_of(outcome)}


class SlackNotifier:
    """Tells the trader on Slack: a DM of the seed's message, their modal updated, App Home redrawn."""

    name = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        store: TradeStore,
        prices: PriceLookup,
        *,
        roles: RoleReader | None = None,
        dm_deadline_s: float = 12.0,
        courtesy_deadline_s: float = 8.0,
        home_refresh_s: float = 0.0,
        approvers_channel: str = "C0APPROVALS",
    ) -> None:
        # Both deadlines together stay under the notification lease (30 s) the handler holds.
        self.client = client
        self.store = store
        self.prices = prices
        self.roles = roles  # who may see their App Home; None: whoever is notified
        self.dm_deadline_s = dm_deadline_s
        self.courtesy_deadline_s = courtesy_deadline_s
        # A trader's App Home is redrawn at most every home_refresh_s (0: after every notice).
        self.home = HomeRefresher(self._refresh_home, home_refresh_s)
        self.approvals = ApprovalDesk(client, approvers_channel, deadline_s=dm_deadline_s)

    @classmethod
    def open(
        cls,
        *,
        token: str,
        base_url: str,
        store: TradeStore,
        prices: PriceLookup,
        roles: RoleReader | None = None,
        timeout_s: int = 5,
        rate_limit_retries: int = 2,
        max_retry_after_s: float = 5.0,
        home_refresh_s: float = 0.0,
        approvers_channel: str = "C0APPROVALS",
    ) -> SlackNotifier:
        """A notifier on its own AsyncWebClient (`base_url` is Slack's, or the emulator's); sends nothing."""
        client = SessionWebClient(
            token=token,
            base_url=base_url,
            timeout=timeout_s,
            retry_handlers=[
                NoResendConnectionErrorRetryHandler(max_retry_count=1),
                BoundedRateLimitRetryHandler(
                    max_retry_count=rate_limit_retries, max_wait_s=max_retry_after_s
                ),
            ],
        )
        return cls(
            client,
            store,
            prices,
            roles=roles,
            home_refresh_s=home_refresh_s,
            approvers_channel=approvers_channel,
        )

    async def notify(self, outcome: Notice) -> None:
        """DM the trader, then update their modal and App Home; only the DM's failure is raised."""
        blocks, text = notice_message(outcome)
        user_id = outcome.trade.user_id
        metadata = {"event_type": NOTICE_EVENT, "event_payload": notice_payload(outcome)}
        try:
            await self._send_dm(
                self.client.chat_postMessage(channel=user_id, blocks=blocks, text=text, metadata=metadata)
            )
        except SlackRefused:
            await self._update_modal(outcome)  # the trader may still be looking at "Submitting…"
            raise
        if isinstance(outcome, TradeHeld):  # held: the store may be down, and nothing in it changed
            await self._update_modal(outcome)
            return
        if isinstance(outcome, CancelRefused):  # the trade's modal shows the trade's own outcome
            await self.home.request(user_id)
            return
        await asyncio.gather(self._update_modal(outcome), self.home.request(user_id))

    async def already_told(self, outcome: Notice) -> bool:
        """Whether the trader's DM channel already holds this notice (found by its message metadata).

        Asked only when an earlier attempt may have posted and died before recording it. A failure to
        read the history raises NotifierUnavailable: the notice is retried, never posted blind.
        """
        trade = outcome.trade
        try:
            async with asyncio.timeout(self.dm_deadline_s):
                opened = await self.client.conversations_open(users=trade.user_id)
        except SlackApiError as exc:
            raise NotifierUnavailable(f"Slack DM of {trade.user_id}: {slack_error(exc)}") from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise NotifierUnavailable(f"Slack DM of {trade.user_id} not opened: {exc!r}") from exc
        found = await find_posted(
            self.client,
            opened["channel"]["id"],
            oldest=trade.submitted_at.timestamp() - HISTORY_SLACK_S,
            event_type=NOTICE_EVENT,
            payload=notice_payload(outcome),
            deadline_s=self.dm_deadline_s,
        )
        return found is not None

    async def ask_approvers(self, request: ApprovalRequested) -> ApprovalPost:
        return await self.approvals.ask(request)

    async def find_approval_post(self, request: ApprovalRequested) -> ApprovalPost | None:
        return await self.approvals.find(request)

    async def show_decision(self, post: ApprovalPost, decided: ApprovalDecided) -> None:
        await self.approvals.show(post, decided)

    async def close(self) -> None:
        await self.home.close()
        if isinstance(self.client, SessionWebClient):
            await self.client.close()  # its kept HTTP session

    async def _send_dm(self, request: Awaitable[object]) -> None:
        await slack_call(request, deadline_s=self.dm_deadline_s)

    async def _update_modal(self, outcome: Notice) -> None:
        trade = outcome.trade
        view_id = getattr(trade, "slack_view_id", None)
        if not view_id:
            return
        try:
            async with asyncio.timeout(self.courtesy_deadline_s):
                await self.client.views_update(view_id=view_id, view=outcome_view(outcome))
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in MODAL_GONE_ERRORS:
                logger.info("Modal %s of trade %s is closed: not updated", view_id, trade.trade_id)
            else:
                logger.warning("Modal %s of trade %s not updated: %s", view_id, trade.trade_id, error)
        except Exception as exc:  # a courtesy: the DM already told the trader
            logger.warning("Modal %s of trade %s not updated: %r", view_id, trade.trade_id, exc)

    async def _refresh_home(self, user_id: str) -> None:
        try:
            async with asyncio.timeout(self.courtesy_deadline_s):
                if self.roles is None:
                    await publish_home(self.client, self.store, self.prices, user_id)
                else:
                    await publish_home_for(self.client, self.store, self.prices, self.roles, user_id)
        except SlackApiError as exc:
            logger.warning("App Home of %s not refreshed: %s", user_id, slack_error(exc))
        except Exception as exc:  # a courtesy: the DM already told the trader
            logger.warning("App Home of %s not refreshed: %r", user_id, exc)
