"""The capture server's record of every email it took: one JSON object a line, appended as each arrives,
so any other process can list them (`tradeflow alerts outbox`, a test)."""

from __future__ import annotations

import threading
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import msgspec


class ReceivedMail(msgspec.Struct, frozen=True, kw_only=True):
    """One email as the server took it: its envelope, its headers that matter and its plain-text body."""

    to: tuple[str, ...]  # the envelope's recipients
    sender: str  # the envelope's MAIL FROM
    subject: str
    body: str
    message_id: str
    received_at: datetime


def mail_of(content: bytes, *, to: tuple[str, ...], sender: str, received_at: datetime) -> ReceivedMail:
    """Read an email's content (DATA) into its record."""
    message = message_from_bytes(content, policy=policy.default)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage
    part = message.get_body(preferencelist=("plain",))
    body = part.get_content() if isinstance(part, EmailMessage) else ""
    return ReceivedMail(
        to=to,
        sender=sender,
        subject=str(message.get("Subject", "")),
        body=body.replace("\r\n", "\n").rstrip("\n"),
        message_id=str(message.get("Message-ID", "")),
        received_at=received_at,
    )


class Mailbox:
    """The JSON-lines file the capture server appends to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, mail: ReceivedMail) -> None:
        line = msgspec.json.encode(mail) + b"\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as out:
                out.write(line)  # one write of a whole line: a reader never sees half of it as whole


def read_mailbox(path: Path) -> list[ReceivedMail]:
    """Every email recorded at `path`, oldest first; none when the file does not exist (no mail yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    decoder = msgspec.json.Decoder(ReceivedMail)
    # The last line may still be being written: only lines that end are read.
    return [decoder.decode(line) for line in data.split(b"\n")[:-1] if line.strip()]
