"""Wait with a deadline, never a blind sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

FIRST_PAUSE_S = 0.02


def eventually(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll until the condition returns something truthy, and return it; fail at the deadline.

    The pause between looks starts at 20 ms and grows by half each time up to `interval`: a condition met at
    once is seen at once, and a long wait looks five times a second, not twenty. Each look costs the two
    cores the stack shares (a store read is a request to DynamoDB Local, a CLI command a process)."""
    deadline = time.monotonic() + timeout
    pause = min(FIRST_PAUSE_S, interval)
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(pause)
        pause = min(pause * 1.5, interval)
