"""Alert emails over real sockets: aiosmtplib (SmtpEmail) to the SMTP capture server `up` runs, which keeps
each email where another process lists it; what each failure proves about the email (sent or not)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from emulators.smtp.mailbox import read_mailbox
from emulators.smtp.server import SmtpCapture
from workers.alerts.email import SmtpEmail
from workers.console.stack.ports import free_port
from workers.handlers.ports import AlertRefused, AlertUnavailable

SENDER = "alerts@tradeflow.localhost"


@pytest.fixture
def capture(tmp_path: Path) -> Iterator[SmtpCapture]:
    with SmtpCapture(tmp_path / "mail.jsonl") as server:
        yield server


def email_to(port: int, **options: object) -> SmtpEmail:
    return SmtpEmail(host="127.0.0.1", port=port, sender=SENDER, timeout_s=2.0, **options)  # type: ignore[arg-type]


async def test_an_alert_email_reaches_the_capture_server_and_is_listed(capture: SmtpCapture) -> None:
    key = "alert#6c1f…#email#desk@example.com"
    email = email_to(capture.port)
    await email.send(
        "desk@example.com", "Halt: the desk is halted", "Halted by U1 at 14:30 UTC — risk review", key=key
    )
    await email.send("desk@example.com", "Halt: the desk is halted", "the same alert, tried again", key=key)
    first, second = read_mailbox(capture.mailbox.path)
    assert first.to == ("desk@example.com",) and first.sender == SENDER
    assert first.subject == "Halt: the desk is halted"
    assert first.body == "Halted by U1 at 14:30 UTC — risk review"  # UTF-8 body, intact
    # Every try of one alert to one address carries one Message-ID: a receiver can drop the copy.
    assert first.message_id == second.message_id and first.message_id.endswith("@tradeflow.localhost>")
    assert first.received_at <= second.received_at


async def test_a_recipient_the_server_refuses_for_good_is_refused(capture: SmtpCapture) -> None:
    with pytest.raises(AlertRefused, match="550"):
        await email_to(capture.port).send("nobody@example.invalid", "s", "b")
    assert read_mailbox(capture.mailbox.path) == []


async def test_a_bad_address_is_refused_before_any_connection() -> None:
    with pytest.raises(AlertRefused, match="not an email address"):
        await email_to(free_port()).send("desk@localhost", "s", "b")


async def test_no_server_listening_is_unavailable_and_surely_unsent() -> None:
    with pytest.raises(AlertUnavailable, match="could not be reached") as raised:
        await email_to(free_port()).send("desk@example.com", "s", "b")
    assert raised.value.surely_unsent


async def test_starttls_required_but_not_offered_is_unavailable_and_surely_unsent(
    capture: SmtpCapture,
) -> None:
    with pytest.raises(AlertUnavailable) as raised:
        await email_to(capture.port, starttls=True).send("desk@example.com", "s", "b")
    assert raised.value.surely_unsent and read_mailbox(capture.mailbox.path) == []


@pytest.fixture(params=["hangs up", "never answers"])
async def hangs_up_after_the_content(request: pytest.FixtureRequest) -> AsyncIterator[int]:
    """An SMTP server that takes the whole envelope and content, then drops the connection, or says nothing,
    instead of its 250: the email may well have been queued."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 flaky ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-flaky\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                await reader.readuntil(b"\r\n.\r\n")
                if request.param == "never answers":
                    await reader.read()
                break  # the content is in: hang up without answering
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_a_connection_lost_after_the_content_left_may_have_sent_it(
    hangs_up_after_the_content: int,
) -> None:
    email = SmtpEmail(host="127.0.0.1", port=hangs_up_after_the_content, sender=SENDER, timeout_s=0.5)
    with pytest.raises(AlertUnavailable, match="may have been sent") as raised:
        await email.send("desk@example.com", "s", "b")
    assert not raised.value.surely_unsent


async def test_a_server_that_never_greets_times_out_surely_unsent() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # connected, and never a word

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        email = SmtpEmail(
            host="127.0.0.1", port=server.sockets[0].getsockname()[1], sender=SENDER, timeout_s=0.3
        )
        with pytest.raises(AlertUnavailable) as raised:
            await email.send("desk@example.com", "s", "b")
        assert raised.value.surely_unsent  # nothing of the email left: the greeting never came
    finally:
        server.close()
