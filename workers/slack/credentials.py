"""The Slack credentials the ingress refuses to start with: values anyone can read.

The signing secret is the ingress's only proof that a request comes from Slack: with a public one, anyone who
reaches the ingress signs a `view_submission` as any trader. The emulator's defaults (workers/settings.py)
and `.env.example`'s placeholders are public, so they are accepted only where nobody else can use them: in
development or test, against a Slack API on loopback (the emulator), with the ingress listening on loopback.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from workers.settings import Settings

# The emulator's defaults and .env.example's placeholders, as published in this repository.
KNOWN_PUBLIC_VALUES = frozenset(
    {
        "emulator-signing-secret-not-real",
        "xoxb-emulator-token-not-a-real-token",
        "YOUR_SIGNING_SECRET",
        "xoxb-YOUR-BOT-TOKEN",
    }
)
# Marks of a placeholder however a copied example spelt it (none can occur in a real secret or token:
# signing secrets are hex, and tokens' random parts carry no `_` and no lowercase words between `-`).
_PLACEHOLDER_MARKS = ("YOUR_", "YOUR-", "-not-real", "-not-a-real-", "placeholder", "changeme", "change-me")
_STRICT_ENVS = frozenset({"staging", "production"})


class UnsafeSlackCredentials(Exception):
    """A Slack credential is a known default or placeholder where it would be exposed; names the variable."""


def is_placeholder(value: str) -> bool:
    """Whether a secret or token is empty, a known public value, or reads like a placeholder."""
    text = value.strip()
    if not text or text in KNOWN_PUBLIC_VALUES:
        return True
    return any(mark in text for mark in _PLACEHOLDER_MARKS)


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """Whether `url` points at this machine (127.0.0.0/8, ::1, localhost), so only it can be the server."""
    try:
        return is_loopback_host(urlsplit(url).hostname)
    except ValueError:
        return False


def exposure(settings: Settings) -> str | None:
    """Why a public credential would be exposed under these settings, or None when it would not."""
    if settings.tradeflow_env in _STRICT_ENVS:
        return f"TRADEFLOW_ENV is {settings.tradeflow_env}"
    if not is_loopback_url(settings.slack_api_url):
        return "SLACK_API_URL is not a Slack emulator on loopback"
    if not is_loopback_host(settings.tradeflow_ingress_host):
        return f"TRADEFLOW_INGRESS_HOST={settings.tradeflow_ingress_host} listens beyond loopback"
    return None


def check_ingress_credentials(settings: Settings) -> None:
    """Refuse a public signing secret or bot token wherever it would be exposed; never prints the value."""
    why = exposure(settings)
    if why is None:
        return
    public = [
        name
        for name, value in (
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
        )
        if is_placeholder(value)
    ]
    if public:
        raise UnsafeSlackCredentials(
            f"{' and '.join(public)} {'is' if len(public) == 1 else 'are'} a known default or placeholder "
            f"and {why}: anyone could sign Slack requests to this ingress. Set "
            f"{' and '.join(public)} to your Slack app's own values (Basic Information → App Credentials; "
            "OAuth & Permissions → Bot User OAuth Token)."
        )
