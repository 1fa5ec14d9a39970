"""alpaca-py's clients with bounded requests, and the one question every failure raises: did it leave?"""

from __future__ import annotations

from typing import Any

import requests
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError


class _BoundedAdapter(HTTPAdapter):
    """alpaca-py sets no request timeout; a slow Alpaca would block the caller forever (DESIGN §9)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(max_retries=0)  # urllib3 must never resend an order request on its own
        self.timeout_s = timeout_s

    def send(  # type: ignore[override]
        self, request: PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any
    ) -> Response:
        return super().send(request, stream=stream, timeout=timeout or self.timeout_s, **kwargs)


def _bound(client: Any, timeout_s: float) -> None:
    # alpaca-py keeps its requests.Session private and offers no timeout option: mount ours on it.
    adapter = _BoundedAdapter(timeout_s)
    client._session.mount("http://", adapter)
    client._session.mount("https://", adapter)


def trading_client(*, api_key: str, secret_key: str, base_url: str, timeout_s: float) -> TradingClient:
    client = TradingClient(api_key, secret_key, paper=True, url_override=base_url)
    _bound(client, timeout_s)
    return client


def data_client(
    *, api_key: str, secret_key: str, data_url: str, timeout_s: float
) -> StockHistoricalDataClient:
    client = StockHistoricalDataClient(api_key, secret_key, url_override=data_url)
    _bound(client, timeout_s)
    return client


def never_left(exc: BaseException) -> bool:
    """True only when the request certainly never reached Alpaca (no connection was made).

    A read timeout, a reset or a dropped connection after the request was written are ambiguous: the
    order may exist (alpacahq/Alpaca-API#270), so they are not "never left".
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False


def is_transport_error(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.RequestException)
