"""Each of the seed's four safety checks fails closed on its own."""

from __future__ import annotations

import pytest

from brokers.paper_guard import PaperGuard, PaperGuardFailed

GOOD = {"api_key": "PKTEST", "base_url": "https://paper-api.alpaca.markets", "environment": "development"}


def test_a_paper_setup_passes() -> None:
    PaperGuard(**GOOD).check("PA2XXXXXXXX")


@pytest.mark.parametrize(
    ("change", "account", "words"),
    [
        ({"api_key": "AKLIVEKEY"}, "PA1", "PK"),
        ({"base_url": "https://api.alpaca.markets"}, "PA1", "paper"),
        ({"environment": "production"}, "PA1", "production"),
        ({}, "LIVE123", "account number"),
        ({}, None, "account number"),
    ],
)
def test_each_check_fails_closed(change: dict[str, str], account: str | None, words: str) -> None:
    with pytest.raises(PaperGuardFailed, match=words):
        PaperGuard(**{**GOOD, **change}).check(account)
