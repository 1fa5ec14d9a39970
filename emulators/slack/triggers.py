"""Trigger ids: minted for an interaction, exchangeable once, for a few seconds (views.open)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from emulators.slack.errors import SlackError
from emulators.slack.ids import Mint


@dataclass
class Trigger:
    id: str
    user_id: str
    team_id: str
    minted_at: float  # monotonic
    minted_at_s: float  # Unix seconds
    exchanged_for: str | None = None  # the view it opened
    exchanged_after_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "trigger_id": self.id,
            "user_id": self.user_id,
            "team_id": self.team_id,
            "minted_at_s": self.minted_at_s,
            "age_s": round(time.monotonic() - self.minted_at, 6),
            "exchanged": self.exchanged_for is not None,
            "view_id": self.exchanged_for,
            "exchanged_after_s": self.exchanged_after_s,
        }


class TriggerBook:
    def __init__(self, mint: Mint) -> None:
        self._mint = mint
        self._triggers: dict[str, Trigger] = {}

    def mint(self, user_id: str, team_id: str) -> Trigger:
        trigger = Trigger(self._mint.trigger_id(), user_id, team_id, time.monotonic(), time.time())
        self._triggers[trigger.id] = trigger
        return trigger

    def get(self, trigger_id: str) -> Trigger | None:
        return self._triggers.get(trigger_id)

    def check(self, trigger_id: str, ttl_s: float) -> Trigger:
        """The trigger, if it may be exchanged now; Slack's refusal if not."""
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            # Slack's docs: "The trigger_id is invalid. The expected format … is 132456.7890123.abcdef".
            # An id of the right shape that was never minted is refused the same way (emulator choice).
            raise SlackError("invalid_trigger_id")
        if trigger.exchanged_for is not None:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.minted_at > ttl_s:
            raise SlackError("expired_trigger_id")
        return trigger

    def exchange(self, trigger: Trigger, view_id: str) -> None:
        trigger.exchanged_for = view_id
        trigger.exchanged_after_s = round(time.monotonic() - trigger.minted_at, 6)

    def to_json(self) -> list[dict[str, Any]]:
        return [trigger.to_json() for trigger in self._triggers.values()]
