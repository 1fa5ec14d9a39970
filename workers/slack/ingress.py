"""The Slack ingress: slack-bolt's AsyncApp behind a signature guard, served by aiohttp.

One Request URL (`POST /slack/events`) for slash commands, interactivity and events, plus `/healthz` and
`/readyz`. Before an ack it does only what Slack's 3-second rule forces: `views.open` on a fresh trigger,
and the confirmed publish that makes "Submitting…" true (an ack means durable, DESIGN §4.3), waited on for
2 seconds at most (submissions.py: a blocked RabbitMQ never hangs the answer).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from messages.events import AnyMessage, SubmitTrade
from messages.records import ROLES, SEVEN_YEARS_DAYS
from workers.access.journal import Journal
from workers.access.roles import CachedRoles
from workers.handlers.ports import RoleReader
from workers.slack.after_answer import AfterAnswer
from workers.slack.approvals import APPROVE_ACTION, REJECT_ACTION, ApprovalClicks
from workers.slack.forms import CALLBACK_ID, SYMBOL, read_submission, trade_modal
from workers.slack.home import HOME_ROLES, publish_home_for
from workers.slack.journal_retries import OUTAGE_BUDGET_S
from workers.slack.notify_command import apply_notify
from workers.slack.order_buttons import OrderButtons
from workers.slack.order_commands import (
    CANCEL_ACTION,
    MODIFY_ACTION,
    MODIFY_CALLBACK_ID,
    ORDER_WORDS,
    OrderCommands,
)
from workers.slack.payload_shape import shape_problem
from workers.slack.session import REQUEST_TS, SOURCE_ADDRESS, SessionAudit
from workers.slack.signature import SignatureRefused, check_signature
from workers.slack.submissions import NOT_CONFIRMED, NOT_SUBMITTED, PUBLISH_DEADLINE_S, Submissions, Submitted
from workers.slack.trade_text import HELP, BadTradeText, Prefill, parse_trade_text
from workers.slack.trader_answers import KINDS, AccountLookup, account_answer, answer_with_buttons
from workers.slack.views import submitting_view
from workers.store.port import TradeStore

logger = logging.getLogger("tradeflow.ingress")


class Ingress:
    """The ingress's parts: who publishes trades, and what App Home reads."""

    def __init__(
        self,
        *,
        signing_secret: str,
        client: AsyncWebClient,
        publish: Callable[[SubmitTrade], None],
        send: Callable[[AnyMessage], None] | None = None,
        ready: Callable[[], bool],
        store: TradeStore,
        prices: Callable[[str], Awaitable[Decimal | None]],
        roles: RoleReader | None = None,
        account: AccountLookup | None = None,
        retention_days: int = SEVEN_YEARS_DAYS,
        desk_accounts: tuple[str, ...] = (),
        publish_deadline_s: float = PUBLISH_DEADLINE_S,
        store_outage_budget_s: float = OUTAGE_BUDGET_S,
    ) -> None:
        self.signing_secret = signing_secret
        self.publish = publish
        self.ready = ready
        self.store = store
        self.prices = prices
        self.account = account  # the Alpaca account's figures (None: Alpaca off)
        self.desk_accounts = desk_accounts  # the accounts a trade may name (none: the desk has one)
        self.roles = roles or CachedRoles(store)  # who may see their App Home
        self.after_answer = AfterAnswer()
        # A journal write that meets a store outage is retried this long (TRADEFLOW_STORE_OUTAGE_BUDGET_S).
        self.journal = Journal(store, retention_days)
        self.session = SessionAudit(self.journal, self.after_answer, outage_budget_s=store_outage_budget_s)
        self.submissions = Submissions(publish, deadline_s=publish_deadline_s)
        self.orders = OrderCommands(
            store=store, roles=self.roles, send=send or _no_sender, submissions=self.submissions
        )
        self.approvals = ApprovalClicks(store=store, roles=self.roles, send=send or _no_sender)
        self.buttons = OrderButtons(self.orders, self.approvals, self.session, self.after_answer)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")
        self.bolt = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            authorize=_single_token(client.token or ""),
            # Answered when the listener returns; what follows the answer runs in `after_answer`.
            process_before_response=True,
        )
        self._listen(self.bolt)

    def _listen(self, bolt: AsyncApp) -> None:
        bolt.command("/trade")(self.on_trade_command)
        bolt.action("new_trade")(self.on_new_trade)
        bolt.action(CANCEL_ACTION)(self.buttons.on_cancel_button)
        bolt.action(MODIFY_ACTION)(self.buttons.on_modify_button)
        bolt.action(APPROVE_ACTION)(self.buttons.on_approval_button)
        bolt.action(REJECT_ACTION)(self.buttons.on_approval_button)
        bolt.view(MODIFY_CALLBACK_ID)(self.buttons.on_modify_submission)
        bolt.view(CALLBACK_ID)(self.on_submission)
        bolt.event("app_home_opened")(self.on_home_opened)

    async def on_trade_command(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
    ) -> None:
        text = (body.get("text") or "").strip()
        audit = {"command": body.get("command"), "text": text[:200]}
        if text.lower() in ("help", "?"):
            await ack(response_type="ephemeral", text=HELP)
            self.session.interaction("slash_command", context, **audit, outcome="help")
            return
        if text.lower() in KINDS:
            answer_text, blocks = await self._trader_answer(text.lower(), body)
            await ack(response_type="ephemeral", text=answer_text, **({"blocks": blocks} if blocks else {}))
            self.session.interaction("slash_command", context, **audit, outcome=text.lower())
            return
        word, _, rest = text.partition(" ")
        if word.lower() == "modify":
            await self.buttons.modify_command(ack, body, client, context, rest, audit)
            return
        if word.lower() == "notify":
            await ack(response_type="ephemeral", text=await self._notify_command(rest, body))
            self.session.interaction("slash_command", context, **audit, outcome="notify")
            return
        if word.lower() in ORDER_WORDS:
            await ack(response_type="ephemeral", text=await self._order_command(word.lower(), rest, body))
            self.session.interaction("slash_command", context, **audit, outcome=word.lower())
            return
        try:
            prefill = parse_trade_text(text)
        except BadTradeText as exc:
            await ack(response_type="ephemeral", text=f"{exc}\n\n{HELP}")
            self.session.interaction("slash_command", context, **audit, outcome="bad_text")
            return
        await ack()
        channel_id = body.get("channel_id")
        opening = self._open_modal(client, body, context, channel_id, prefill, "slash_command", audit)
        self.after_answer.start(opening, "views.open for /trade")

    async def _trader_answer(self, kind: str, body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """`/trade orders|positions|account`: the user's own, if they may see them (viewer or trader); the
        account to operators too, with what only they see."""
        user_id = str(body.get("user_id") or "")
        operator = kind == "account" and await self.roles.has_role(user_id, "operator")
        if not operator and not await self.roles.has_role(user_id, *HOME_ROLES):
            return (
                "You can't see trades here yet: ask an admin to grant you the *viewer* or *trader* role.",
                [],
            )
        if kind == "account":
            mine = await self.roles.accounts_of(user_id) if self.desk_accounts else ()
            return await account_answer(self.account, operator=operator, account=(mine or (None,))[0]), []
        return await answer_with_buttons(kind, self.store, self.prices, user_id)

    async def _notify_command(self, rest: str, body: dict[str, Any]) -> str:
        """`/trade notify …`: the user's own alerts by email and SMS (any role: approvers want theirs)."""
        user_id = str(body.get("user_id") or "")
        if not await self.roles.has_role(user_id, *ROLES):
            return "You can't choose alerts here yet: ask an admin to grant you a role."
        return await apply_notify(self.store, self.journal, user_id, rest, datetime.now(UTC))

    async def _order_command(self, word: str, rest: str, body: dict[str, Any]) -> str:
        user_id = str(body.get("user_id") or "")
        if word == "cancel":
            return await self.orders.cancel(user_id, rest.strip(), source="slack_command")
        return await self.orders.close(user_id, rest, channel_id=body.get("channel_id"))

    async def on_new_trade(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
    ) -> None:
        await ack()
        opening = self._open_modal(
            client, body, context, None, Prefill(), "home_button", {"action_id": "new_trade"}
        )
        self.after_answer.start(opening, "views.open for New trade")

    async def _open_modal(
        self,
        client: AsyncWebClient,
        body: dict[str, Any],
        context: dict[str, Any],
        channel_id: str | None,
        prefill: Prefill,
        action: str,
        audit: dict[str, Any],
    ) -> None:
        """Open the trade modal on the request's fresh trigger first (3 seconds), then journal both steps."""
        trade_id = uuid.uuid4()
        try:
            opened = await client.views_open(
                trigger_id=body["trigger_id"],
                view=trade_modal(trade_id, channel_id, prefill, self.desk_accounts),
            )
        except Exception:
            self.session.interaction(action, context, **audit, outcome="modal_not_opened")
            raise
        self.session.interaction(action, context, **audit, outcome="modal_opened")
        view_id = (opened.get("view") or {}).get("id")
        self.session.interaction("modal_opened", context, trade_id=str(trade_id), view_id=view_id, via=action)

    async def on_submission(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        command = read_submission(view, user_id=body["user"]["id"], accounts=self.desk_accounts)
        if isinstance(command, dict):
            await ack(response_action="errors", errors=command)
            self.session.interaction(
                "view_submission",
                context,
                view_id=view.get("id"),
                outcome="form_errors",
                fields=sorted(command),
            )
            return
        submitted = {
            "view_id": view.get("id"),
            "trade_id": str(command.trade_id),
            "origin_channel_id": command.trade.channel_id,
        }
        try:
            outcome, command = await self.submissions.submit(command)
        except Exception:
            logger.exception(
                "Trade %s NOT submitted: the publish failed",
                command.trade_id,
                extra={"trade_id": command.trade_id},
            )
            outcome = Submitted.FAILED
        if outcome is not Submitted.CONFIRMED:
            unconfirmed = outcome is Submitted.UNCONFIRMED
            if unconfirmed:
                logger.warning(
                    "Trade %s not confirmed by RabbitMQ in %.1f s: the trader was told, the publish goes on",
                    command.trade_id,
                    self.submissions.deadline_s,
                    extra={"trade_id": command.trade_id},
                )
            await ack(
                response_action="errors", errors={SYMBOL: NOT_CONFIRMED if unconfirmed else NOT_SUBMITTED}
            )
            outcome_word = "not_confirmed" if unconfirmed else "not_submitted"
            self.session.interaction("view_submission", context, **submitted, outcome=outcome_word)
            return
        logger.info(
            "Trade submitted from Slack by %s", command.trade.user_id, extra={"trade_id": command.trade_id}
        )
        await ack(response_action="update", view=submitting_view(command.trade))
        self.session.interaction("view_submission", context, **submitted, outcome="submitted")

    async def on_home_opened(
        self, event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
    ) -> None:
        tab = event.get("tab")
        if tab != "home":
            self.session.interaction("app_home_opened", context, tab=tab, outcome="not_home")
            return
        self.after_answer.start(self._publish_home(client, context, event["user"]), "App Home publish")

    async def _publish_home(self, client: AsyncWebClient, context: dict[str, Any], user_id: str) -> None:
        allowed = await publish_home_for(client, self.store, self.prices, self.roles, user_id)
        self.session.interaction(
            "app_home_opened", context, tab="home", outcome="published" if allowed else "no_access"
        )

    async def slack_events(self, request: web.Request) -> web.Response:
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            if self.session.request_refused("body_refused", request.remote, request.headers, "not UTF-8"):
                logger.warning("Refused a Slack request from %s: its body is not UTF-8", request.remote)
            return web.json_response({"ok": False, "error": "invalid_body"}, status=400)
        try:
            check_signature(self.signing_secret, request.headers, body)
        except SignatureRefused as exc:
            # logged once per source and reason a minute, as journaled: a flood is not a log flood
            if self.session.request_refused("signature_refused", request.remote, request.headers, str(exc)):
                logger.warning("Refused a Slack request from %s: %s", request.remote, exc)
            return web.json_response({"ok": False, "error": "invalid_request_signature"}, status=401)
        context = {
            SOURCE_ADDRESS: request.remote,
            REQUEST_TS: request.headers.get("X-Slack-Request-Timestamp"),
        }
        try:
            bolt_request = AsyncBoltRequest(
                body=body, query=request.query_string, headers=dict(request.headers), context=context
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # a signed body that is not what its Content-Type says, or not shaped as Slack shapes it
            logger.warning("Refused a signed Slack request from %s: malformed body (%s)", request.remote, exc)
            self.session.request_refused("body_refused", request.remote, request.headers, "malformed body")
            return web.json_response({"ok": False, "error": "invalid_body"}, status=400)
        problem = shape_problem(bolt_request.body)
        if problem is not None:
            logger.warning("Refused a signed Slack request from %s: %s", request.remote, problem)
            self.session.request_refused("body_refused", request.remote, request.headers, problem)
            return web.json_response({"ok": False, "error": "invalid_body", "detail": problem}, status=400)
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(self, request: web.Request) -> web.Response:
        ready = await asyncio.get_running_loop().run_in_executor(self._pool, self.ready)
        return web.json_response({"ok": ready}, status=200 if ready else 503)

    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/slack/events", self.slack_events)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        return app

    async def close(self) -> None:
        """Finish the work that followed answers already given (journal entries), then stop publishing."""
        await self.session.close()
        await self.after_answer.drain()
        await self.submissions.close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _no_sender(message: AnyMessage) -> None:
    raise RuntimeError("this ingress was built without a sender for chain commands")


def _single_token(token: str) -> Callable[..., Awaitable[AuthorizeResult]]:
    """One workspace, one bot token: no auth.test round trip in front of the first request."""

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    return authorize
