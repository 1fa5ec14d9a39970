"""Alert emails over SMTP (aiosmtplib): one connection per email, to a relay or to `up`'s capture server.

What a failure proves decides whether it may be sent again at once: until the message's content is handed
over (DATA), nothing can have reached anyone, and any answer other than 250 to it means the server did not
take the message. Only a connection lost or a reply timed out while the content is in flight leaves it
unknown (the server may have queued it): `surely_unsent` is False then and only then.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid

import aiosmtplib

from workers.alerts.addresses import email_problem
from workers.handlers.ports import AlertRefused, AlertUnavailable

# Message-IDs of alerts: uuid5 of the send's key under this namespace, so every try of one alert to one
# address carries the same id, and a receiver that has it already can drop the copy.
MESSAGE_ID_NAMESPACE = uuid.UUID("3f0c5b7e-9d2a-4e51-8b36-6a1f0e2d9c47")
QUIT_TIMEOUT_S = 1.0  # the email's fate is settled before QUIT: no longer wait for its answer


class SmtpEmail:
    """Sends each alert as a plain-text email from `sender` through the SMTP server at host:port."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout_s = timeout_s

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    async def send(self, address: str, subject: str, body: str, *, key: str | None = None) -> None:
        """Mail `subject` and `body` to `address`; raises AlertRefused or AlertUnavailable."""
        problem = email_problem(address)
        if problem is not None:
            raise AlertRefused(problem)
        message = self.compose(address, subject, body, key=key)
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self._timeout_s,
            # True: STARTTLS required (a real relay on 587); False: never (the capture server on loopback).
            start_tls=self._starttls,
            username=self._username,
            password=self._password,
        )
        content_sent = False
        try:
            # The whole conversation within the timeout (each step is bounded too): a send outlasting the
            # alerts service's lease could be taken over and made twice.
            async with asyncio.timeout(self._timeout_s):
                await self._connect(client)
                await self._envelope(client, address)
                content_sent = True
                await self._content(client, message)
        except TimeoutError as exc:  # each step maps its own failures; this is the whole send's deadline
            raise AlertUnavailable(
                f"SMTP {self.server} took longer than {self._timeout_s:g} s"
                + (" (the email may have been sent)" if content_sent else ""),
                surely_unsent=not content_sent,
            ) from exc
        finally:
            await _hang_up(client)

    def compose(self, address: str, subject: str, body: str, *, key: str | None = None) -> EmailMessage:
        """The email as it is sent: its Message-ID derives from `key` when given."""
        domain = self.sender.rpartition("@")[2] or "tradeflow"
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = address
        message["Subject"] = " ".join(subject.split())  # one line: a header never carries a line break
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = (
            f"<{uuid.uuid5(MESSAGE_ID_NAMESPACE, key)}@{domain}>" if key else make_msgid(domain=domain)
        )
        message.set_content(body)
        return message

    async def _connect(self, client: aiosmtplib.SMTP) -> None:
        # Connecting, the greeting, EHLO, STARTTLS and the login: nothing of the message has left yet.
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise AlertUnavailable(
                f"SMTP {self.server} refused the login ({exc.code} {exc.message}): check "
                "TRADEFLOW_SMTP_USERNAME and TRADEFLOW_SMTP_PASSWORD",
                surely_unsent=True,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise AlertUnavailable(
                f"SMTP {self.server} could not be reached: {_reason(exc)}", surely_unsent=True
            ) from exc

    async def _envelope(self, client: aiosmtplib.SMTP, address: str) -> None:
        try:
            await client.mail(self.sender)
            await client.rcpt(address)
        except aiosmtplib.SMTPRecipientRefused as exc:
            if exc.code >= 500:  # a permanent refusal: this server will never take this address
                raise AlertRefused(f"SMTP {self.server} refused {address}: {exc.code} {exc.message}") from exc
            raise AlertUnavailable(
                f"SMTP {self.server} put off {address}: {exc.code} {exc.message}", surely_unsent=True
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Our sender refused (a relay's policy), the connection lost before the content: nothing left.
            raise AlertUnavailable(
                f"SMTP {self.server} did not start the email: {_reason(exc)}", surely_unsent=True
            ) from exc

    async def _content(self, client: aiosmtplib.SMTP, message: EmailMessage) -> None:
        try:
            await client.data(message.as_bytes(policy=SMTP_POLICY))
        except aiosmtplib.SMTPResponseException as exc:
            # An answer other than 250 to DATA or to its end: the server did not take the message.
            raise AlertUnavailable(
                f"SMTP {self.server} did not take the email: {exc.code} {exc.message}", surely_unsent=True
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Lost while the content was in flight, or its 250 never came: the server may have queued it.
            raise AlertUnavailable(
                f"SMTP {self.server} did not confirm the email (it may have been sent): {_reason(exc)}"
            ) from exc

    async def close(self) -> None:
        return None  # one connection per email: nothing stays open


async def _hang_up(client: aiosmtplib.SMTP) -> None:
    if client.is_connected:
        # The email's fate is settled by now: a QUIT that fails changes nothing.
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit(timeout=QUIT_TIMEOUT_S)
    client.close()


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
