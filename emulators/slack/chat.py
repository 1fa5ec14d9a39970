"""Conversations and messages: public channels, a DM channel per user, what the app posted, and
chat.postMessage's per-channel limit ("one message per second per channel", short bursts allowed).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulators.slack.config import EmulatorConfig
from emulators.slack.errors import SlackError, ratelimited
from emulators.slack.ids import Mint, is_user_id
from emulators.slack.validation import with_ids


@dataclass
class Bucket:
    tokens: float
    at: float = field(default_factory=time.monotonic)


class ChatStore:
    def __init__(self, config: Callable[[], EmulatorConfig], mint: Mint) -> None:
        self._config = config
        self._mint = mint
        self.channels: dict[str, str] = dict(config().channels)  # id -> name
        self.dm_of_user: dict[str, str] = {}
        self.user_of_dm: dict[str, str] = {}
        self.dm_opened_at: dict[str, int] = {}
        self.messages: list[dict[str, Any]] = []
        self._buckets: dict[str, Bucket] = {}

    # -- conversations ------------------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str | None = None) -> None:
        self.channels.setdefault(channel_id, name or channel_id.lower())

    def open_dm(self, user_id: str) -> tuple[str, bool]:
        """The user's DM channel with the bot, and whether it was already open."""
        if user_id in self.dm_of_user:
            return self.dm_of_user[user_id], True
        channel_id = self._mint.slack_id("D")
        self.dm_of_user[user_id], self.user_of_dm[channel_id] = channel_id, user_id
        self.dm_opened_at[channel_id] = int(time.time())
        return channel_id, False

    def resolve(self, channel: Any) -> tuple[str, str | None]:
        """(channel id, DM user) for a `channel` argument: an id, a #name, or a user id (their DM)."""
        if not isinstance(channel, str) or not channel:
            raise SlackError("channel_not_found")
        if is_user_id(channel):
            dm, _ = self.open_dm(channel)
            return dm, channel
        if channel in self.user_of_dm:
            return channel, self.user_of_dm[channel]
        if channel in self.channels:
            return channel, None
        name = channel.removeprefix("#")
        for channel_id, known in self.channels.items():
            if known == name:
                return channel_id, None
        raise SlackError("channel_not_found")

    def im_object(self, channel_id: str) -> dict[str, Any]:
        """conversations.open's full IM object (return_im=true), as its reference example shows it."""
        return {
            "id": channel_id,
            "created": self.dm_opened_at[channel_id],
            "is_im": True,
            "is_org_shared": False,
            "user": self.user_of_dm[channel_id],
            "last_read": "0000000000.000000",
            "latest": None,
            "unread_count": 0,
            "unread_count_display": 0,
            "is_open": True,
            "priority": 0,
        }

    # -- posting ------------------------------------------------------------------------------

    def admit(self, channel_id: str) -> None:
        """Take a token from the channel's bucket, or refuse with 429 and the seconds until one is back."""
        config = self._config()
        now = time.monotonic()
        bucket = self._buckets.setdefault(channel_id, Bucket(float(config.post_burst), now))
        bucket.tokens = min(float(config.post_burst), bucket.tokens + (now - bucket.at) * config.post_per_s)
        bucket.at = now
        if bucket.tokens < 1:
            raise ratelimited(max(1, math.ceil((1 - bucket.tokens) / config.post_per_s)))
        bucket.tokens -= 1

    def record(self, kind: str, channel_id: str, user_id: str | None, args: dict[str, Any]) -> dict[str, Any]:
        """Keep a message the app sent: kind "message", "ephemeral" or "response_url"."""
        blocks = args.get("blocks")
        message = {
            "kind": kind,
            "channel": channel_id,
            "user": user_id,  # the DM's user, or an ephemeral message's recipient
            "ts": self._mint.ts(),
            "text": args.get("text"),
            "blocks": with_ids(blocks, self._mint) if isinstance(blocks, list) else blocks,
            "attachments": args.get("attachments"),
            "thread_ts": args.get("thread_ts"),
            "metadata": args.get("metadata"),
            "at_s": time.time(),
            "answer_lost": None,  # the fault's kind when the app never had this post's answer
            "params": args,
        }
        self.messages.append(message)
        return message

    def update(self, channel_id: str, ts: str, args: dict[str, Any]) -> dict[str, Any]:
        """chat.update: the app's own message in the channel at `ts` gets the new text and blocks (blocks
        not given are kept, unless text is, which renders alone); SlackError message_not_found if none."""
        for message in self.messages:
            if message["channel"] == channel_id and message["ts"] == ts and message["kind"] == "message":
                break
        else:
            raise SlackError("message_not_found")
        blocks = args.get("blocks")
        if isinstance(blocks, list):
            message["blocks"] = with_ids(blocks, self._mint)
        elif args.get("text") is not None:
            message["blocks"] = None
        if args.get("text") is not None:
            message["text"] = args["text"]
        message["updates"] = message.get("updates", 0) + 1
        message["edited_at_s"] = time.time()
        return message

    def mark_answer_lost(self, ts: str, fault_kind: str) -> None:
        """The app never learnt this message was posted: its answer was lost to a fault."""
        for message in reversed(self.messages):
            if message["ts"] == ts:
                message["answer_lost"] = fault_kind
                return

    def find(
        self,
        *,
        channel: str | None = None,
        user: str | None = None,
        kind: str | None = None,
        offset: int = 0,
    ) -> list[Any]:
        """The messages matching every filter, in posting order, from the `offset`-th message posted on."""
        return [
            m
            for m in self.messages[offset:]
            if (channel is None or m["channel"] == channel)
            and (user is None or m["user"] == user)
            and (kind is None or m["kind"] == kind)
        ]
