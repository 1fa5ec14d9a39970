"""SlackNotifier on a hand-written Web API fake: the DM is the notification of record, the rest courtesies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from messages.events import TradeFailed
from messages.trade import ExecutionError
from tests.unit.fakes import trade
from workers.handlers.ports import NoticeRefused, NotifierUnavailable
from workers.slack.blocks import outcome_message
from workers.slack.notifier import SlackNotifier, SlackRefused
from workers.slack.retries import (
    BoundedRateLimitRetryHandler,
    NoResendConnectionErrorRetryHandler,
    retry_after_s,
)
from workers.slack.views import outcome_view
from workers.store.memory.store import MemoryTradeStore

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


class Answer:
    """What slack-sdk hands SlackApiError: a status and the body."""

    def __init__(self, status_code: int, data: dict[str, Any]) -> None:
        self.status_code = status_code
        self.data = data


def slack_error(error: str, status: int = 200) -> SlackApiError:
    return SlackApiError(
        "The request to the Slack API failed.", Answer(status, {"ok": False, "error": error})
    )


class FakeSlack:
    """Records each Web API call; a method scripted with an exception raises it instead."""

    def __init__(self, **failures: BaseException) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures = failures
        self.dm_delay_s = 0.0

    async def _call(self, method: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((method, arguments))
        if method in self.failures:
            raise self.failures[method]
        return {"ok": True}

    async def chat_postMessage(self, **arguments: Any) -> dict[str, Any]:
        await asyncio.sleep(self.dm_delay_s)
        return await self._call("chat.postMessage", arguments)

    async def views_update(self, **arguments: Any) -> dict[str, Any]:
        return await self._call("views.update", arguments)

    async def views_publish(self, **arguments: Any) -> dict[str, Any]:
        return await self._call("views.publish", arguments)

    def methods(self) -> list[str]:
        return sorted(method for method, _ in self.calls)


async def no_price(symbol: str) -> Decimal | None:
    return None


def outcome(view_id: str | None = "V0MODAL") -> TradeFailed:
    error = ExecutionError(code="MARKET_CLOSED", message="Market is closed")
    return TradeFailed(trade=trade(slack_view_id=view_id), error=error, failed_at=NOW)


def notifier(slack: FakeSlack, store: Any = None, **deadlines: float) -> SlackNotifier:
    return SlackNotifier(slack, store or MemoryTradeStore(), no_price, **deadlines)  # type: ignore[arg-type]


async def test_the_trader_gets_a_dm_their_modal_updated_and_their_home_refreshed() -> None:
    slack = FakeSlack()
    event = outcome()
    await notifier(slack).notify(event)
    calls = dict(slack.calls)
    blocks, text = outcome_message(event)
    assert calls["chat.postMessage"] == {
        "channel": "U123",
        "blocks": blocks,
        "text": text,
        "metadata": {
            "event_type": "tradeflow_trade_notice",
            "event_payload": {"trade_id": str(event.trade.trade_id), "notice": "outcome"},
        },
    }
    assert calls["views.update"] == {"view_id": "V0MODAL", "view": outcome_view(event)}
    assert calls["views.publish"]["user_id"] == "U123"
    assert calls["views.publish"]["view"]["type"] == "home"
    assert slack.calls[0][0] == "chat.postMessage"  # the notification of record goes first


async def test_a_trade_without_a_modal_updates_none() -> None:
    slack = FakeSlack()
    await notifier(slack).notify(outcome(view_id=None))
    assert slack.methods() == ["chat.postMessage", "views.publish"]


@pytest.mark.parametrize(
    "failure",
    [
        slack_error("not_found"),  # the trader closed the modal
        slack_error("expired_trigger_id"),
        aiohttp.ClientConnectionError("reset"),
        RuntimeError("anything else"),
    ],
    ids=["closed", "slack-error", "network", "other"],
)
async def test_a_failed_modal_update_does_not_fail_the_notification(failure: BaseException) -> None:
    slack = FakeSlack(**{"views.update": failure})
    await notifier(slack).notify(outcome())
    assert slack.methods() == ["chat.postMessage", "views.publish", "views.update"]


async def test_a_failed_home_refresh_does_not_fail_the_notification() -> None:
    slack = FakeSlack(**{"views.publish": slack_error("invalid_arguments")})
    await notifier(slack).notify(outcome())
    assert slack.methods() == ["chat.postMessage", "views.publish", "views.update"]


async def test_an_unreachable_store_does_not_fail_the_notification() -> None:
    class DownStore(MemoryTradeStore):
        async def list_positions(self, user_id: str) -> list[Any]:
            raise ConnectionError("store down")

    slack = FakeSlack()
    await notifier(slack, DownStore()).notify(outcome())
    assert slack.methods() == ["chat.postMessage", "views.update"]


def never_connected() -> aiohttp.ClientConnectorError:
    return aiohttp.ClientConnectorError(
        ConnectionKey("127.0.0.1", 9, False, True, None, None, None), OSError(111, "Connection refused")
    )


@pytest.mark.parametrize(
    ("failure", "surely_unsent"),
    [
        (slack_error("ratelimited", status=429), True),  # after slack-sdk's own 429 retries: not processed
        (never_connected(), True),  # the request never left
        (slack_error("request_timeout"), True),  # Slack says the POST body never arrived whole
        (slack_error("internal_error"), False),  # Slack: some of the operation may have succeeded
        (slack_error("fatal_error"), False),
        (SlackApiError("failed", Answer(503, {})), False),
        (aiohttp.ServerDisconnectedError(), False),  # the answer was lost after the request left
        (aiohttp.ClientOSError(104, "Connection reset by peer"), False),
        (TimeoutError(), False),
    ],
    ids=[
        "ratelimited",
        "never-connected",
        "request_timeout",
        "internal_error",
        "fatal_error",
        "503",
        "disconnected",
        "reset",
        "timeout",
    ],
)
async def test_a_dm_that_may_work_later_raises_notifier_unavailable_saying_if_it_may_be_out(
    failure: BaseException, surely_unsent: bool
) -> None:
    slack = FakeSlack(**{"chat.postMessage": failure})
    with pytest.raises(NotifierUnavailable) as raised:
        await notifier(slack).notify(outcome())
    assert raised.value.surely_unsent is surely_unsent
    assert slack.methods() == ["chat.postMessage"]


@pytest.mark.parametrize("error", ["invalid_auth", "channel_not_found", "not_authed", "account_inactive"])
async def test_a_dm_slack_refuses_raises_slack_refused_and_still_updates_the_modal(error: str) -> None:
    slack = FakeSlack(**{"chat.postMessage": slack_error(error)})
    with pytest.raises(SlackRefused) as refused:
        await notifier(slack).notify(outcome())
    assert refused.value.error == error
    assert not isinstance(refused.value, NotifierUnavailable)
    assert isinstance(refused.value, NoticeRefused)  # the handler may free its lease: nothing went out
    assert slack.methods() == ["chat.postMessage", "views.update"]


async def test_a_dm_slower_than_its_deadline_is_unavailable() -> None:
    slack = FakeSlack()
    slack.dm_delay_s = 10
    with pytest.raises(NotifierUnavailable) as raised:
        await asyncio.wait_for(notifier(slack, dm_deadline_s=0.01).notify(outcome()), timeout=5)
    assert raised.value.surely_unsent is False  # Slack may still post it


def test_open_builds_a_client_on_the_configured_url_with_bounded_retries() -> None:
    built = SlackNotifier.open(
        token="xoxb-test", base_url="http://127.0.0.1:1/api/", store=MemoryTradeStore(), prices=no_price
    )
    assert built.name == "slack"
    assert built.client.base_url == "http://127.0.0.1:1/api/"
    assert built.client.token == "xoxb-test"
    assert 0 < built.client.timeout <= 10
    kinds = {type(handler): handler for handler in built.client.retry_handlers}
    assert set(kinds) == {NoResendConnectionErrorRetryHandler, BoundedRateLimitRetryHandler}
    assert 1 <= kinds[BoundedRateLimitRetryHandler].max_retry_count <= 3


def request_to(method: str) -> HttpRequest:
    return HttpRequest(method="POST", url=f"http://127.0.0.1:8766/api/{method}", headers={})


@pytest.mark.parametrize(
    ("method", "error", "retried"),
    [
        ("chat.postMessage", never_connected(), True),  # it never left: sending it is the first send
        ("chat.postMessage", aiohttp.ServerDisconnectedError(), False),  # it may have been posted
        ("chat.postMessage", aiohttp.ClientOSError(104, "Connection reset by peer"), False),
        ("chat.postEphemeral", aiohttp.ServerDisconnectedError(), False),
        ("conversations.history", aiohttp.ServerDisconnectedError(), True),  # a read: safe to repeat
        ("views.update", aiohttp.ClientOSError(104, "Connection reset by peer"), True),  # same view again
        ("chat.postMessage", None, False),
    ],
)
async def test_connection_errors_resend_only_what_cannot_double_a_message(
    method: str, error: Exception | None, retried: bool
) -> None:
    handler = NoResendConnectionErrorRetryHandler(max_retry_count=1)
    answer = await handler.can_retry_async(state=RetryState(), request=request_to(method), error=error)
    assert answer is retried


def response(status: int, **headers: str) -> HttpResponse:
    return HttpResponse(status_code=status, headers=dict(headers))


@pytest.mark.parametrize(
    ("answer", "retried"),
    [
        (response(429, **{"Retry-After": "2"}), True),
        (response(429), True),  # no Retry-After: slack-sdk waits about a second
        (response(429, **{"retry-after": "30"}), False),  # longer than the lease allows: the queue retries
        (response(429, **{"Retry-After": "soon"}), False),
        (response(500), False),
        (response(200), False),
    ],
)
async def test_rate_limits_are_retried_only_within_the_wait_bound(
    answer: HttpResponse, retried: bool
) -> None:
    handler = BoundedRateLimitRetryHandler(max_retry_count=2, max_wait_s=5)
    request = HttpRequest(method="POST", url="http://slack/api/chat.postMessage", headers={})
    assert await handler.can_retry_async(state=RetryState(), request=request, response=answer) is retried


def test_retry_after_reads_whole_seconds() -> None:
    assert retry_after_s(response(429, **{"Retry-After": "3"})) == 3
    assert retry_after_s(response(429)) == 1


def test_a_refusal_names_the_method_and_the_error() -> None:
    refused = SlackRefused("chat.postMessage", "invalid_auth")
    assert str(refused) == "Slack refused chat.postMessage: invalid_auth"
