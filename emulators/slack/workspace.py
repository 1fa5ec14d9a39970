"""One Slack workspace with the app installed: its config, conversations, views, triggers, the calls
it received and the faults armed against them. Everything runs on the emulator's event loop thread."""

from __future__ import annotations

from typing import Any

import msgspec

from emulators.slack.calls import CallLog
from emulators.slack.chat import ChatStore
from emulators.slack.config import EmulatorConfig, updated
from emulators.slack.faults import FaultBoard
from emulators.slack.ids import Mint
from emulators.slack.triggers import TriggerBook
from emulators.slack.views import ViewStore


class Workspace:
    def __init__(self, config: EmulatorConfig) -> None:
        self.start_config = config
        self._fresh(config)

    def _fresh(self, config: EmulatorConfig) -> None:
        self.config = config
        self.mint = Mint(config.seed)
        self.calls = CallLog()
        self.faults = FaultBoard()
        self.triggers = TriggerBook(self.mint)
        self.views = ViewStore(lambda: self.config, self.mint)
        self.chat = ChatStore(lambda: self.config, self.mint)
        self.hooks: dict[str, dict[str, Any]] = {}  # response_url secret -> where it posts

    def reset(self, changes: dict[str, Any]) -> None:
        """Back to the start state; `changes` alter the start config until the next reset."""
        self._fresh(updated(self.start_config, changes))

    def reconfigure(self, changes: dict[str, Any]) -> None:
        self.config = updated(self.config, changes)
        for channel_id, name in self.config.channels.items():
            self.chat.add_channel(channel_id, name)

    def status(self) -> dict[str, Any]:
        return {
            "calls": len(self.calls.calls),
            "views": len(self.views.records()),
            "open_views": sum(1 for r in self.views.records() if r.status == "open"),
            "messages": len(self.chat.messages),
            "faults": self.faults.to_json(),
            "config": self.config_json(),
        }

    def config_json(self) -> dict[str, Any]:
        return msgspec.to_builtins(self.config)
