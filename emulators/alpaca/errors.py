"""Alpaca's refusals: the status codes and JSON bodies its Trading and Market Data APIs send.

Where each body comes from (public reports of real responses, quoted verbatim):
- 401 `{"code":40110000,"message":"request is not authorized"}`: a wrong key or secret on the Trading
  API (alpacahq/alpaca-py#519, alpacahq/Alpaca-API#224).
- 403 with no credentials at all: Alpaca's "Getting Started with Trading API" page shows
  `curl https://paper-api.alpaca.markets/v2/account` answering `403 Forbidden`, Content-Length 26; the
  26-byte `{"message": "forbidden."}` + newline is the emulator's reconstruction of that body. The Market
  Data API answers bad credentials with 403 too (alpaca-trade-api-python#429, alpaca-py#283, #331).
- 403 `{"buying_power":…,"code":40310000,"cost_basis":…,"message":"insufficient buying power"}`
  (alpaca-py#225); 403 40310000 "insufficient qty available for order (requested: N, available: M)" with
  available / existing_qty / held_for_orders / related_orders / symbol (Alpaca-API#111).
- 422 `{"code":40010001,"message":"client_order_id must be unique"}` (Alpaca's "how to fix common
  trading API errors" guide); 40010001 is also the code of malformed order parameters (alpaca-py#156).
- 422 42210000 for orders Alpaca understands but refuses: `order is already in "filled" state`,
  `asset "X" is not tradable`, `asset "X" cannot be sold short`, `extended hours order must be DAY limit
  orders`, `stop price must be less than current price`, sub-penny prices (many public client logs).
- 404 40410000 "order not found", "asset not found for SYM", "position does not exist".
- 429 `{"code":42910000,"message":"rate limit exceeded"}` with X-RateLimit-Limit/-Remaining/-Reset
  (Alpaca's rate-limit docs); the emulator adds a standard Retry-After as well.
- 500 `{"code":50010000,"message":"internal server error"}`; 503 and the gateway's 502/504 bodies are
  the emulator's own stand-ins (no verbatim public sample was found). alpaca-py retries 429 and 504.
Messages the emulator writes for validation failures that no public sample covers are marked
"(emulator wording)" where they are defined.
"""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any

from aiohttp import web

from emulators.alpaca.formats import decimal_text, money_text

RATE_LIMIT_PER_MINUTE = 200


class AlpacaError(Exception):
    """A refusal with Alpaca's status code, body and headers; the app renders it as the response."""

    def __init__(
        self, status: int, body: dict[str, Any] | str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> web.Response:
        if isinstance(self.body, str):
            text, content_type = self.body, "text/html" if self.body.startswith("<") else "application/json"
        else:
            text, content_type = json.dumps(self.body, separators=(",", ":")), "application/json"
        response = web.Response(status=self.status, text=text, content_type=content_type)
        response.headers.update(self.headers)
        response.headers.setdefault("X-Request-ID", uuid.uuid4().hex)
        return response

    def with_headers(self, headers: dict[str, str]) -> AlpacaError:
        self.headers.update(headers)
        return self


def coded(status: int, code: int, message: str, **extra: Any) -> AlpacaError:
    # Alpaca's server encodes bodies from Go maps, so the keys come out sorted.
    return AlpacaError(status, dict(sorted({"code": code, "message": message, **extra}.items())))


def request_not_authorized() -> AlpacaError:
    return coded(401, 40110000, "request is not authorized")


def forbidden() -> AlpacaError:
    return AlpacaError(403, '{"message": "forbidden."}\n')


def order_not_found() -> AlpacaError:
    return coded(404, 40410000, "order not found")


def asset_not_found(symbol: str) -> AlpacaError:
    return coded(404, 40410000, f"asset not found for {symbol}")


def position_not_found() -> AlpacaError:
    return coded(404, 40410000, "position does not exist")


def invalid_parameter(message: str) -> AlpacaError:
    return coded(422, 40010001, message)


def unprocessable(message: str) -> AlpacaError:
    return coded(422, 42210000, message)


def duplicate_client_order_id() -> AlpacaError:
    return invalid_parameter("client_order_id must be unique")


def not_cancelable(status: str) -> AlpacaError:
    return unprocessable(f'order is already in "{status}" state')


def insufficient_buying_power(buying_power: Decimal, cost_basis: Decimal) -> AlpacaError:
    return coded(
        403,
        40310000,
        "insufficient buying power",
        buying_power=money_text(buying_power),
        cost_basis=money_text(cost_basis),
    )


def insufficient_qty(
    symbol: str, requested: Decimal, existing: Decimal, held: Decimal, related_orders: list[str]
) -> AlpacaError:
    available = max(Decimal(0), existing - held)
    return coded(
        403,
        40310000,
        f"insufficient qty available for order (requested: {decimal_text(requested)}, "
        f"available: {decimal_text(available)})",
        available=decimal_text(available),
        existing_qty=decimal_text(existing),
        held_for_orders=decimal_text(held),
        related_orders=related_orders,
        symbol=symbol,
    )


def rate_limited(retry_after_s: int) -> AlpacaError:
    reset = int(time.time()) + retry_after_s
    return coded(429, 42910000, "rate limit exceeded").with_headers(
        {
            "X-RateLimit-Limit": str(RATE_LIMIT_PER_MINUTE),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
            "Retry-After": str(retry_after_s),
        }
    )


def rate_limit_exceeded(headers: dict[str, str], retry_after_s: int) -> AlpacaError:
    """The rate limit's own refusal: its X-RateLimit-* headers, and a standard Retry-After."""
    return coded(429, 42910000, "rate limit exceeded").with_headers(
        {**headers, "Retry-After": str(retry_after_s)}
    )


def server_error(status: int) -> AlpacaError:
    if status == 500:
        return coded(500, 50010000, "internal server error")
    if status == 503:
        return coded(503, 50310000, "service unavailable")
    reason = {502: "Bad Gateway", 504: "Gateway Time-out"}.get(status, "Error")
    html = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return AlpacaError(status, html)
