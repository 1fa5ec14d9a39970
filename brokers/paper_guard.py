"""The seed's four safety checks: paper keys, a paper URL, a paper account, and never in production.

They fail closed: any check that fails, or cannot be made, disables Alpaca with a logged reason, and no
order is sent. They run when the adapter starts and again before every order.
"""

from __future__ import annotations

import logging

import msgspec

logger = logging.getLogger("tradeflow.paper_guard")


class PaperGuardFailed(Exception):
    """A safety check failed: Alpaca is disabled and no order may be sent."""


class PaperGuard(msgspec.Struct, frozen=True, kw_only=True):
    api_key: str
    base_url: str
    environment: str

    def check_configuration(self) -> None:
        """The three checks that need no request: key, URL and environment."""
        if not self.api_key.startswith("PK"):
            raise PaperGuardFailed("the Alpaca API key does not start with 'PK' (not a paper key)")
        if "paper" not in self.base_url.lower():
            raise PaperGuardFailed(f"the Alpaca base URL {self.base_url!r} does not contain 'paper'")
        if self.environment.lower() == "production":
            raise PaperGuardFailed("TRADEFLOW_ENV is 'production': paper trading is refused there")

    def check_account(self, account_number: str | None) -> None:
        """The fourth check: the account the keys open is a paper account (its number starts with 'P')."""
        if not account_number or not account_number.startswith("P"):
            raise PaperGuardFailed(f"the Alpaca account number {account_number!r} does not start with 'P'")

    def check(self, account_number: str | None) -> None:
        self.check_configuration()
        self.check_account(account_number)
