"""Rate limits and injected faults, seen the way slack-sdk sees them (with and without its retry handlers)."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import AdminError, SlackEmulator
from tests.waiting import eventually

TRADER = "U0TRADER01"


def retrying_client(emulator: SlackEmulator) -> AsyncWebClient:
    client = AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


async def test_429_twice_then_the_retry_handler_succeeds(slack_emulator: SlackEmulator) -> None:
    # Retry-After 0: slack-sdk sleeps Retry-After plus a random fraction of a second between tries.
    slack_emulator.admin.rate_limit("chat.postMessage", times=2, retry_after_s=0)

    answer = await retrying_client(slack_emulator).chat_postMessage(channel=TRADER, text="Trade executed")

    assert answer["ok"] is True
    calls = slack_emulator.admin.calls("chat.postMessage")
    assert [(c["status"], c["fault"]) for c in calls] == [
        (429, "ratelimited"),
        (429, "ratelimited"),
        (200, None),
    ]
    assert calls[0]["response"] == {"ok": False, "error": "ratelimited"}
    assert len(slack_emulator.admin.messages(user=TRADER)) == 1  # refused tries post nothing


async def test_a_429_without_retries_reaches_the_caller_with_an_integer_retry_after(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.admin.rate_limit("views.publish", retry_after_s=7)

    with pytest.raises(SlackApiError) as raised:
        await slack_client.views_publish(user_id=TRADER, view={"type": "home", "blocks": []})

    response = raised.value.response
    assert (response.status_code, response["error"]) == (429, "ratelimited")
    assert response.headers["Retry-After"] == "7"


async def test_chat_post_message_is_limited_per_channel(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.admin.reset(post_burst=2, post_per_s=0.5)

    for text in ("one", "two"):
        await slack_client.chat_postMessage(channel=TRADER, text=text)
    with pytest.raises(SlackApiError) as raised:
        await slack_client.chat_postMessage(channel=TRADER, text="three")
    elsewhere = await slack_client.chat_postMessage(channel="#general", text="another channel")

    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert raised.value.response.headers["Retry-After"] == "2"  # one message back every 2 s
    assert elsewhere["ok"] is True
    assert [m["text"] for m in slack_emulator.admin.messages(user=TRADER)] == ["one", "two"]


def test_the_sync_client_retries_429_too(slack_emulator: SlackEmulator) -> None:
    client = WebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    slack_emulator.admin.rate_limit("auth.test", times=1, retry_after_s=0)

    assert client.auth_test()["ok"] is True
    assert slack_emulator.admin.call_count("auth.test") == 2


@pytest.mark.parametrize(("status", "error"), [(500, "internal_error"), (503, "service_unavailable")])
async def test_server_errors_reach_the_caller(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator, status: int, error: str
) -> None:
    slack_emulator.admin.add_fault("http_error", status=status, method="views.*")

    with pytest.raises(SlackApiError) as raised:
        await slack_client.views_publish(user_id=TRADER, view={"type": "home", "blocks": []})

    assert (raised.value.response.status_code, raised.value.response["error"]) == (status, error)
    assert slack_emulator.admin.home_views(TRADER) == []  # phase "before": nothing happened
    assert (await slack_client.views_publish(user_id=TRADER, view={"type": "home", "blocks": []}))["ok"]


async def test_a_lost_answer_after_the_effect(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.admin.add_fault("http_error", status=503, method="chat.postMessage", phase="after")

    with pytest.raises(SlackApiError):
        await slack_client.chat_postMessage(channel=TRADER, text="did it go?")

    assert [m["text"] for m in slack_emulator.admin.messages(user=TRADER)] == ["did it go?"]


async def test_a_slow_method_outlasts_the_client_timeout(slack_emulator: SlackEmulator) -> None:
    client = AsyncWebClient(token=slack_emulator.bot_token, base_url=slack_emulator.api_url, timeout=0.2)
    slack_emulator.admin.add_fault("slow", method="views.open", delay_s=0.6)

    with pytest.raises(TimeoutError):
        await client.views_open(trigger_id=slack_emulator.admin.mint_trigger(TRADER), view={"type": "modal"})

    # The emulator still answers once the delay is over (and records it) though the client left.
    calls = eventually(lambda: slack_emulator.admin.calls("views.open"), timeout=5)
    assert calls[0]["fault"] == "slow" and calls[0]["elapsed_ms"] >= 600


async def test_an_api_error_fault_answers_ok_false(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.admin.add_fault("api_error", method="chat.postMessage", error="fatal_error", times=None)

    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await slack_client.chat_postMessage(channel=TRADER, text="x")
        assert (raised.value.response.status_code, raised.value.response["error"]) == (200, "fatal_error")

    assert slack_emulator.admin.faults()[0]["hits"] == 2
    slack_emulator.admin.clear_faults()
    assert (await slack_client.chat_postMessage(channel=TRADER, text="x"))["ok"]


def test_a_fault_the_emulator_cannot_make_is_refused(slack_emulator: SlackEmulator) -> None:
    with pytest.raises(AdminError, match="status must be one of"):
        slack_emulator.admin.add_fault("http_error", status=418)


async def test_a_fault_aimed_at_dms_passes_a_channel_post_by_and_strikes_the_next_dm(
    slack_client: AsyncWebClient, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.admin.add_fault("http_error", status=503, method="chat.postMessage", channel="U*")

    posted = await slack_client.chat_postMessage(channel="C0APPROVALS", text="approve or reject")
    assert posted["ok"] is True  # a channel's post: not the fault's
    with pytest.raises(SlackApiError) as raised:
        await slack_client.chat_postMessage(channel=TRADER, text="Trade executed")

    assert raised.value.response.status_code == 503
    statuses = [(c["params"]["channel"], c["fault"]) for c in slack_emulator.admin.calls("chat.postMessage")]
    assert statuses == [("C0APPROVALS", None), (TRADER, "http_error")]
    assert [f["remaining"] for f in slack_emulator.admin.faults()] == [0]
