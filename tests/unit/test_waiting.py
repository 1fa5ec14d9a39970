"""`eventually`: looks at once, then ever less often up to its interval, and fails at its deadline."""

from __future__ import annotations

import itertools

import pytest

from tests import waiting
from tests.waiting import eventually


def test_the_pause_grows_from_20_ms_to_the_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(waiting.time, "sleep", pauses.append)
    looks = iter([None] * 9 + ["done"])
    assert eventually(lambda: next(looks), timeout=60, interval=0.1) == "done"
    assert pauses[0] == pytest.approx(0.02)
    assert all(later >= earlier for earlier, later in itertools.pairwise(pauses))
    assert max(pauses) == pytest.approx(0.1) and pauses[-1] == pytest.approx(0.1)


def test_a_condition_never_met_fails_at_the_deadline() -> None:
    with pytest.raises(AssertionError, match=r"within 0\.05s"):
        eventually(lambda: False, timeout=0.05)
