"""Alert SMS over real sockets: aioboto3's SNS client (SnsSms) publishing to moto's server, which lists what
it took; what each failure proves about the SMS (sent or not)."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.alert_servers import a_number, moto_sns
from workers.alerts.sms import MAX_SMS_CHARS, SnsSms
from workers.console.stack.alert_servers import sent_sms
from workers.console.stack.ports import free_port
from workers.handlers.ports import AlertRefused, AlertUnavailable

__all__ = ["moto_sns"]


async def sns_at(endpoint: str, timeout_s: float = 5.0) -> SnsSms:
    return await SnsSms.open(
        region="us-east-1",
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        timeout_s=timeout_s,
    )


async def test_an_sms_alert_is_published_and_moto_lists_it(moto_sns: str) -> None:
    number = a_number()
    sms = await sns_at(moto_sns)
    try:
        message_id = await sms.send(number, "Halt: the desk is halted", "by U1 at 14:30 UTC")
        await sms.send(number, "Large trade: AAPL", "x" * 2_000)  # cut to what one alert SMS may be
    finally:
        await sms.close()
    mine = [s for s in sent_sms(moto_sns) if s.phone_number == number]
    assert mine[0].message_id == message_id
    assert mine[0].message == "Halt: the desk is halted\nby U1 at 14:30 UTC"
    assert len(mine[1].message) == MAX_SMS_CHARS and mine[1].message.endswith("…")


async def test_a_number_not_in_e164_form_is_refused_before_sns_is_asked(moto_sns: str) -> None:
    sms = await sns_at(moto_sns)
    try:
        with pytest.raises(AlertRefused, match=r"E\.164"):
            await sms.send("555-1234", "s", "b")
    finally:
        await sms.close()
    assert not [s for s in sent_sms(moto_sns) if s.phone_number == "555-1234"]


async def test_sns_not_listening_is_unavailable_and_surely_unsent() -> None:
    sms = await sns_at(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(AlertUnavailable, match="could not be reached") as raised:
            await sms.send(a_number(), "s", "b")
    finally:
        await sms.close()
    assert raised.value.surely_unsent


async def test_sns_that_takes_the_request_and_never_answers_may_have_sent_it() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # the request arrives; no answer ever leaves

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    sms = await sns_at(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", timeout_s=0.3)
    try:
        with pytest.raises(AlertUnavailable, match="may have been sent") as raised:
            await sms.send(a_number(), "s", "b")
        assert not raised.value.surely_unsent
    finally:
        await sms.close()
        server.close()
