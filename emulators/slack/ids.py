"""Identifiers shaped like Slack's: object ids, view hashes, trigger ids, block ids and message ts."""

from __future__ import annotations

import random
import re
import string
import time
from typing import Any, TypeGuard

ID_CHARS = string.ascii_uppercase + string.digits
MIXED_CHARS = string.ascii_letters + string.digits
# Slack's docs give "12345.98765.abcd2358fdea" as the shape of a trigger_id.
TRIGGER_ID = re.compile(r"^\d+\.\d+\.[0-9a-f]+$")


def is_user_id(value: Any) -> TypeGuard[str]:
    """U… or W… (Enterprise Grid) user ids, like "U0BPQUNTA"."""
    return (
        isinstance(value, str) and len(value) > 1 and value[0] in "UW" and value.isalnum() and value.isupper()
    )


class Mint:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        self._last_ts_us = 0

    def slack_id(self, prefix: str, length: int = 10) -> str:
        """E.g. "V" → "VMHU10V25X" (views), "D" (DM channels), "Ev" (events)."""
        return prefix + "".join(self._random.choices(ID_CHARS, k=length))

    def view_hash(self) -> str:
        """Like "1569262015.55b5e41b": a new one each time the view changes."""
        return f"{int(time.time())}.{''.join(self._random.choices(MIXED_CHARS, k=8))}"

    def trigger_id(self) -> str:
        return (
            f"{self._random.randrange(10**10, 10**11)}.{self._random.randrange(10**9, 10**10)}"
            f".{self._random.getrandbits(128):032x}"
        )

    def block_id(self) -> str:
        """What Slack fills in for a block or element sent without an id, like "2WGp9"."""
        return "".join(self._random.choices(MIXED_CHARS, k=5))

    def secret(self) -> str:
        return "".join(self._random.choices(MIXED_CHARS, k=24))

    def ts(self) -> str:
        """A message timestamp, "1503435956.000247": unique and increasing within the workspace."""
        now_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = now_us
        return f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"
