"""A small synchronous client for the emulator's admin API (urllib only), for tests and tooling."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal
from typing import Any

from emulators.admin_http import AdminError, AdminHttp

__all__ = ["AdminClient", "AdminError"]


class AdminClient(AdminHttp):
    """The views of one account take `account` (its name or key id); without it, the default account's."""

    # -- state ------------------------------------------------------------------------------

    def status(self, account: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/status", query={"account": account})

    def accounts(self) -> list[dict[str, Any]]:
        """Every account: name, key_id, account_number, cash."""
        return self._call("GET", "/accounts")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """E.g. configure(fill_delay_ms=10, partial_fills=3, tick_interval_ms=0, non_tradable=["XYZ"])."""
        return self._call("POST", "/config", changes)

    # -- faults -----------------------------------------------------------------------------

    def add_fault(self, kind: str, account: str | None = None, **fields: Any) -> dict[str, Any]:
        """E.g. add_fault("http_error", status=503, method="POST", path="/v2/orders", times=1)."""
        return self._call("POST", "/faults", {"kind": kind, **fields}, query={"account": account})

    def accept_then_504(
        self,
        *,
        resend_status: int = 422,
        times: int | None = 1,
        retry_after_s: int = 1,
        account: str | None = None,
    ) -> dict[str, Any]:
        """The next `times` orders are accepted but answered 504; every resend of one is answered
        `resend_status` (429, 403, 401 or 422) before it is processed. See faults.py."""
        return self.add_fault(
            "accept_then_504",
            account,
            resend_status=resend_status,
            times=times,
            retry_after_s=retry_after_s,
        )

    def faults(self, account: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/faults", query={"account": account})

    def clear_faults(self, account: str | None = None) -> None:
        self._call("DELETE", "/faults", query={"account": account})

    # -- market -----------------------------------------------------------------------------

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/clock")

    def set_clock(
        self,
        *,
        is_open: bool | None = None,
        next_open: datetime | None = None,
        next_close: datetime | None = None,
    ) -> dict[str, Any]:
        body = {"is_open": is_open, "next_open": next_open, "next_close": next_close}
        return self._call("POST", "/clock", {k: v for k, v in body.items() if v is not None})

    def set_session(self, session: str) -> dict[str, Any]:
        """Put the market in "pre", "regular", "post" or "closed" (sessions.py): day orders expire and
        queued orders go to market as they would at that session's start."""
        return self._call("POST", "/clock", {"session": session})

    def open_market(self, *, next_close: datetime | None = None) -> dict[str, Any]:
        return self.set_clock(is_open=True, next_close=next_close)

    def close_market(self, *, next_open: datetime | None = None) -> dict[str, Any]:
        """Close now: resting day orders expire, as at the 16:00 close."""
        return self.set_clock(is_open=False, next_open=next_open)

    def prices(self, *symbols: str) -> dict[str, Any]:
        query = f"?symbols={','.join(symbols)}" if symbols else ""
        return self._call("GET", f"/prices{query}")

    def set_price(self, symbol: str, price: Decimal | str, *, freeze: bool | None = None) -> dict[str, Any]:
        """Put the symbol's mid price at `price` (orders it crosses fill); freeze=True stops its walk."""
        body: dict[str, Any] = {"symbol": symbol, "price": str(price)}
        if freeze is not None:
            body["freeze"] = freeze
        return self._call("POST", "/prices", body)[symbol.upper()]

    # -- what the emulator saw --------------------------------------------------------------

    def orders(self, client_order_id: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
        """Every order accepted, in arrival order (including those whose response was dropped)."""
        orders = self._call("GET", "/orders", query={"account": account})
        return (
            orders
            if client_order_id is None
            else [o for o in orders if o["client_order_id"] == client_order_id]
        )

    def executions(self, order_id: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
        executions = self._call("GET", "/executions", query={"account": account})
        return executions if order_id is None else [e for e in executions if e["order_id"] == order_id]

    def requests(self, account: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/requests", query={"account": account})

    def request_count(self, method: str, route: str, account: str | None = None) -> int:
        """How many times the API answered e.g. ("POST", "/v2/orders") or ("GET", "/v2/orders/{order_id}")."""
        return int(self.requests(account)["counts"].get(f"{method.upper()} {route}", 0))

    def order_requests(
        self, client_order_id: str | None = None, account: str | None = None
    ) -> list[dict[str, Any]]:
        """Every order request (POST /v2/orders) answered, oldest first, with its client_order_id, status,
        fault, `received_at` (its arrival) and `at` (its answer); only `client_order_id`'s when given."""
        return [
            r
            for r in self.requests(account)["requests"]
            if r["method"] == "POST"
            and r["route"] == "/v2/orders"
            and (client_order_id is None or r["client_order_id"] == client_order_id)
        ]

    def clear_requests(self, account: str | None = None) -> None:
        self._call("DELETE", "/requests", query={"account": account})

    def rate_limits(self, account: str | None = None) -> dict[str, Any]:
        """{"trading": {"limit_per_window", "window_s", "keys": {key: {"used", "remaining", "reset_at"}}},
        "data": {…}, "refused": n}: the rate limit's open windows, and the 429s it answered."""
        return self._call("GET", "/rate_limits", query={"account": account})

    def stream_listeners(self, account: str | None = None) -> int:
        return int(self._call("GET", "/stream", query={"account": account})["listeners"])

    def wait_for_listeners(
        self, count: int = 1, *, timeout_s: float = 10.0, account: str | None = None
    ) -> None:
        """Block until `count` trade_updates sockets are authenticated and listening."""
        deadline = time.monotonic() + timeout_s
        while self.stream_listeners(account) < count:
            if time.monotonic() > deadline:
                raise AdminError(f"fewer than {count} trade_updates listeners after {timeout_s}s")
            time.sleep(0.02)
