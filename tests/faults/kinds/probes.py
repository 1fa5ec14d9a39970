"""A kind's own trades: Execute Trade clicks posted to the ingress (as the load posts them), or a trader
driving Slack's side through the emulator (slash command, modal, submit) when the answer itself is checked."""

from __future__ import annotations

import json
import random
import threading
import uuid
from dataclasses import dataclass, field

import requests

from bench.load import SYMBOLS, signed, submission, trade_id_of
from emulators.slack.admin_client import AdminClient as SlackAdmin
from emulators.slack.driver import SlackDriver


@dataclass
class Probes:
    """Posts clicks; keeps every trade id it posted, accepted or refused, for the campaign's checks."""

    ingress_url: str
    secret: str
    users: list[str]
    accepted: set[uuid.UUID] = field(default_factory=set)
    refused: dict[uuid.UUID, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, count: int, rng: random.Random, quantity: str = "1") -> list[uuid.UUID]:
        """Post `count` buy clicks, one after the other; returns the accepted trade ids."""
        accepted = []
        for _ in range(count):
            user = self.users[rng.randrange(len(self.users))]
            body = submission(user, rng.choice(SYMBOLS), quantity, "buy")
            trade_id = trade_id_of(body)
            answer = self._post(body)
            with self._lock:
                if answer == "accepted":
                    self.accepted.add(trade_id)
                    accepted.append(trade_id)
                else:
                    self.refused[trade_id] = answer
        return accepted

    def post(self, body: str) -> str:
        """Post one click's form body; "accepted", or what the ingress answered instead."""
        return self._post(body)

    def _post(self, body: str) -> str:
        try:
            response = requests.post(
                self.ingress_url, data=body, headers=signed(self.secret, body), timeout=10
            )
        except requests.RequestException as exc:
            return f"transport: {type(exc).__name__}"
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        answer = response.json() if response.text else {}
        return "accepted" if answer.get("response_action") == "update" else json.dumps(answer)[:200]

    def keep(self, trade_id: uuid.UUID, accepted: bool, answer: str = "") -> None:
        """A trade a kind submitted another way (through the driver): checked like every other."""
        with self._lock:
            if accepted:
                self.accepted.add(trade_id)
                self.refused.pop(trade_id, None)
            elif trade_id not in self.accepted:
                self.refused[trade_id] = answer

    def driver(self, slack: SlackAdmin, user_id: str) -> SlackDriver:
        return SlackDriver(self.ingress_url, self.secret, slack, user_id=user_id)
