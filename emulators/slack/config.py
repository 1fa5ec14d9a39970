"""The emulator's settings: the workspace's ids, the bot token, trigger lifetime and the posting limit."""

from __future__ import annotations

import msgspec

# Placeholders for the emulator only: never real credentials. They are tradeflow's defaults too
# (workers/settings.py), so `tradeflow up` talks to the emulator with no configuration.
DEFAULT_BOT_TOKEN = "xoxb-emulator-token-not-a-real-token"
DEFAULT_SIGNING_SECRET = "emulator-signing-secret-not-real"
# #general first (a slash command's default channel); #trade-approvals is tradeflow's approvers' default.
DEFAULT_CHANNELS = {"C0EMUGENERAL": "general", "C0APPROVALS": "trade-approvals"}


def _default_channels() -> dict[str, str]:
    return dict(DEFAULT_CHANNELS)


class EmulatorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything `POST /admin/config` may change; `POST /admin/reset` returns to the start values."""

    bot_token: str = DEFAULT_BOT_TOKEN
    # The emulator never checks it: the app verifies signatures, the driver makes them. It is here so
    # `environment()` and the driver agree with the app on one secret.
    signing_secret: str = DEFAULT_SIGNING_SECRET
    # The deprecated verification token Slack still puts in every payload's `token` field.
    verification_token: str = "emulator-verification-token-not-real"
    team_id: str = "T0EMULATOR"
    team_domain: str = "tradeflow-emulator"
    team_name: str = "Tradeflow Emulator"
    app_id: str = "A0EMULATOR"
    bot_id: str = "B0EMULATOR"
    bot_user_id: str = "U0EMULATORBOT"
    bot_user_name: str = "tradeflow"
    # A trigger_id may be exchanged once, within this many seconds of its interaction (Slack: 3).
    trigger_ttl_s: float = 3.0
    # chat.postMessage per channel: a bucket of `post_burst` messages refilled at `post_per_s`
    # (Slack: "one message per second per channel", short bursts allowed).
    post_burst: int = 5
    post_per_s: float = 1.0
    # Public channels that exist (id -> name); DMs open on demand, and the driver adds the channels
    # its slash commands come from.
    channels: dict[str, str] = msgspec.field(default_factory=_default_channels)
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.trigger_ttl_s <= 0 or self.post_per_s <= 0 or self.post_burst < 1:
            raise ValueError("trigger_ttl_s and post_per_s must be positive, post_burst at least 1")
        if not self.bot_token:
            raise ValueError("bot_token must not be empty")


def updated(config: EmulatorConfig, changes: dict[str, object]) -> EmulatorConfig:
    """Apply a JSON object of changes, validated like the config itself (unknown names refused)."""
    merged = msgspec.to_builtins(config)
    merged.update(changes)
    return msgspec.convert(merged, EmulatorConfig, strict=False)
