"""The SMTP capture server: aiosmtpd's SMTP protocol with a handler that records every email it takes.

It refuses recipients the way a real relay refuses an undeliverable domain: an address at a `.invalid`
domain (RFC 2606: never deliverable) gets `550 5.1.2`, so a sender's permanent-refusal path can be tried
over a real socket.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from aiosmtpd.smtp import SMTP, Envelope, Session

from emulators.smtp.mailbox import Mailbox, mail_of

HOSTNAME = "tradeflow-smtp-capture"  # its EHLO name (given, so no reverse DNS lookup at every connection)


class CaptureHandler:
    """aiosmtpd's handler: take every email to a deliverable domain and record it in the mailbox."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain == "invalid" or domain.endswith(".invalid"):
            return "550 5.1.2 Bad destination system address (the .invalid domain is never deliverable)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        mail = mail_of(
            content,
            to=tuple(envelope.rcpt_tos),
            sender=envelope.mail_from or "",
            received_at=datetime.now(UTC),
        )
        await asyncio.to_thread(self.mailbox.append, mail)
        return "250 2.0.0 OK: kept"


async def start_server(mailbox: Mailbox, host: str, port: int) -> asyncio.Server:
    """Serve SMTP on host:port (0: a free port) in the running loop; the caller closes it."""
    handler = CaptureHandler(mailbox)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: SMTP(handler, hostname=HOSTNAME, loop=loop), host, port)


class SmtpCapture:
    """The capture server on a thread of its own: `start()` (port 0 picks a free one), `stop()`."""

    def __init__(self, mailbox_path: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mailbox = Mailbox(mailbox_path)
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        future: Any = asyncio.run_coroutine_threadsafe(self._open(), self._loop)
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtp-capture", daemon=True)
        self._thread.start()
        try:
            future.result(timeout=10)
        except BaseException:
            self.stop()  # the port taken, say: no loop left running behind the error
            raise
        return self

    async def _open(self) -> None:
        self._server = await start_server(self.mailbox, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._server is not None:
            self._server.close()
            asyncio.run_coroutine_threadsafe(self._server.wait_closed(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._thread = self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
