"""Where alerts land on the dev stack: the SMTP capture server (emulators/smtp) and moto's SNS, which `up`
starts on loopback when the settings point there, and what each received (`tradeflow alerts outbox`).

moto keeps every SMS its SNS "sent" on its SNS backend (phone number, text, message id; no time) and its
server shows every such model at GET /moto-api/data.json, under "sns" → "SMS", in the order they were made.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import msgspec

from emulators.smtp.mailbox import ReceivedMail, read_mailbox
from workers.console.stack.children import StoppedTogether, port_open, start_process
from workers.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost")
MOTO_MODELS = "/moto-api/data.json"


class SentSms(msgspec.Struct, frozen=True, kw_only=True):
    """One SMS moto's SNS took (it keeps no time)."""

    message_id: str
    phone_number: str
    message: str


class SnsUnreadable(Exception):
    """moto's SNS could not be asked what it sent (not running, not moto, or it answered nonsense)."""


@dataclass(frozen=True)
class Started:
    """One line of `up`'s report."""

    part: str
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)


def mailbox_path(settings: Settings) -> Path:
    """The capture server's JSON-lines file, under the data dir."""
    return settings.data_dir / "mail.jsonl"


def received_mail(settings: Settings) -> list[ReceivedMail]:
    """Every email the capture server took, oldest first (none when it never took one)."""
    return read_mailbox(mailbox_path(settings))


def local_sns(settings: Settings) -> str | None:
    """The loopback SNS endpoint (moto's) the settings point at, or None (AWS's, or another host's)."""
    endpoint = settings.aws_endpoint_url_sns
    return endpoint if endpoint and urlparse(endpoint).hostname in LOOPBACK else None


def sent_sms(endpoint: str, timeout_s: float = 5.0) -> list[SentSms]:
    """Every SMS moto's SNS at `endpoint` took, in the order it took them; raises SnsUnreadable."""
    url = endpoint.rstrip("/") + MOTO_MODELS
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            models = json.load(answer)
        return msgspec.convert(models.get("sns", {}).get("SMS", []), list[SentSms])
    except (OSError, ValueError, AttributeError, msgspec.ValidationError) as exc:
        raise SnsUnreadable(f"moto's SNS at {endpoint} could not be read ({exc})") from exc


def start_alert_servers(
    settings: Settings, data_dir: Path, env: dict[str, str], services: StoppedTogether
) -> list[Started]:
    """Start the SMTP capture server and moto's SNS where the settings point on loopback and nothing
    listens yet; each one started joins `services`, which `up` stops. What to report, one entry a part."""
    if settings.tradeflow_alerts == "off":
        return [Started("Alerts", "off (TRADEFLOW_ALERTS=off): no email or SMS is sent")]
    return [_smtp(settings, data_dir, env, services), _sns(settings, data_dir, env, services)]


def _smtp(settings: Settings, data_dir: Path, env: dict[str, str], services: StoppedTogether) -> Started:
    host, port = settings.tradeflow_smtp_host, settings.tradeflow_smtp_port
    where = f"{host}:{port}"
    if host not in LOOPBACK:
        return Started("Email", f"SMTP {where} (a relay)", {"url": where, "started": False})
    if port_open(host, port):
        return Started("Email", f"SMTP {where} (already running)", {"url": where, "started": False})
    if importlib.util.find_spec("aiosmtpd") is None:
        return Started("Email", f"SMTP {where} not started: pip install 'tradeflow[local]' (aiosmtpd)")
    mailbox = mailbox_path(settings).resolve()
    command = [
        sys.executable,
        "-m",
        "emulators.smtp",
        "--host",
        host,
        "--port",
        str(port),
        "--mailbox",
        str(mailbox),
    ]
    services.add(start_process(command, env=env, host=host, port=port, log=data_dir / "smtp-capture.log"))
    summary = f"SMTP {where} (capture server, every email kept in {mailbox}; tradeflow alerts outbox)"
    return Started("Email", summary, {"url": where, "started": True, "mailbox": str(mailbox)})


def _sns(settings: Settings, data_dir: Path, env: dict[str, str], services: StoppedTogether) -> Started:
    endpoint = local_sns(settings)
    if endpoint is None:
        shown = settings.aws_endpoint_url_sns or f"AWS SNS ({settings.aws_region})"
        return Started("SMS", shown, {"url": settings.aws_endpoint_url_sns, "started": False})
    parsed = urlparse(endpoint)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    if port_open(host, port):
        return Started("SMS", f"SNS {endpoint} (already running)", {"url": endpoint, "started": False})
    if importlib.util.find_spec("moto") is None:
        return Started("SMS", f"SNS {endpoint} not started: pip install 'tradeflow[local]' (moto)")
    command = [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]
    services.add(start_process(command, env=env, host=host, port=port, log=data_dir / "moto-sns.log"))
    summary = f"SNS {endpoint} (moto, every SMS kept in memory; tradeflow alerts outbox)"
    return Started("SMS", summary, {"url": endpoint, "started": True})
