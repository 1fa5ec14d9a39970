"""alpaca-py's clients with bounded requests and no resends of their own, and the one question every
failure raises: did it leave?

alpaca-py's REST client resends a request answered 429 or 504 three times, 3 s apart, and reports the
last answer (alpaca/common/rest.py: `_retry`, `_retry_wait`, `_retry_codes`). After an order request that
was accepted and answered 504, that answer describes a resend, not the order: so the resend is turned off
here and every retry is tradeflow's own (DESIGN §9). urllib3's retries are off too, and every request
runs against its call's deadline, checked in the thread that sends it: `run_in_executor` cannot be
cancelled, so a call outliving its caller must still never send after the attempt's budget ran out.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import requests
from alpaca.common.exceptions import APIError
from alpaca.common.rest import RESTClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError

from brokers.alpaca_budget import AccountBudget, Lane, RateLimitWait, reset_in_s
from brokers.port import BrokerUnavailable, RateLimited

T = TypeVar("T")
# A request is not started with less time than this left before its call's deadline.
MIN_REQUEST_S = 0.05

_call_deadline = threading.local()


class NotSent(requests.exceptions.RequestException):
    """The call's deadline passed before this request could leave: nothing was sent."""


def bounded_call(deadline: float | None, fn: Callable[..., T], *args: Any) -> T:
    """Run one alpaca-py call in this thread; each request it makes leaves only before `deadline`
    (time.monotonic()) and is answered by then, or it is abandoned (None: the request bound alone)."""
    _call_deadline.at = deadline
    try:
        return fn(*args)
    finally:
        _call_deadline.at = None


class _BoundedAdapter(HTTPAdapter):
    """alpaca-py sets no request timeout; a slow Alpaca would block the caller forever (DESIGN §9).

    With a budget, each request takes a slot of its lane before it leaves (RateLimitWait: it does not),
    and Alpaca's answer is read for its rate-limit headers: every request alpaca-py makes, resends too.
    """

    def __init__(self, timeout_s: float, budget: AccountBudget | None = None, lane: Lane = "trading") -> None:
        super().__init__(max_retries=0)  # urllib3 must never resend an order request on its own
        self.timeout_s = timeout_s
        self.budget = budget
        self.lane: Lane = lane

    def send(  # type: ignore[override]
        self, request: PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any
    ) -> Response:
        bound = self.timeout_s
        deadline: float | None = getattr(_call_deadline, "at", None)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left < MIN_REQUEST_S:
                raise NotSent(f"{request.method} {request.path_url}: the call's deadline passed; not sent")
            bound = min(bound, left)
        if self.budget is None:
            return super().send(request, stream=stream, timeout=bound, **kwargs)
        self.budget.take(self.lane)
        response = super().send(request, stream=stream, timeout=bound, **kwargs)
        self.budget.observe(self.lane, response.status_code, response.headers)
        return response


def _own_every_retry(
    client: RESTClient, timeout_s: float, budget: AccountBudget | None = None, lane: Lane = "trading"
) -> None:
    # The constructor takes retry_attempts=0 as "the default" (3); the attribute it sets is honoured as
    # it is: `while retry >= 0` sends once, and `retry > 0` is needed to resend.
    client._retry = 0
    # alpaca-py keeps its requests.Session private and offers no timeout option: mount ours on it.
    adapter = _BoundedAdapter(timeout_s, budget, lane)
    client._session.mount("http://", adapter)
    client._session.mount("https://", adapter)


def trading_client(
    *, api_key: str, secret_key: str, base_url: str, timeout_s: float, budget: AccountBudget | None = None
) -> TradingClient:
    client = TradingClient(api_key, secret_key, paper=True, url_override=base_url)
    _own_every_retry(client, timeout_s, budget, "trading")
    return client


def data_client(
    *, api_key: str, secret_key: str, data_url: str, timeout_s: float, budget: AccountBudget | None = None
) -> StockHistoricalDataClient:
    client = StockHistoricalDataClient(api_key, secret_key, url_override=data_url)
    _own_every_retry(client, timeout_s, budget, "data")
    return client


def never_left(exc: BaseException) -> bool:
    """True only when the request certainly never reached Alpaca (no connection was made).

    A read timeout, a reset or a dropped connection after the request was written are ambiguous: the
    order may exist (alpacahq/Alpaca-API#270), so they are not "never left".
    """
    if isinstance(exc, NotSent | RateLimitWait | requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False


def is_transport_error(exc: BaseException) -> bool:
    return isinstance(exc, requests.exceptions.RequestException)


# What alpaca-py resent by itself, now resent by tradeflow, and only for requests that change nothing.
RESENT_STATUSES = frozenset({429, 504})
READ_RESENDS = 2
MAX_RESEND_WAIT_S = 3.0  # alpaca-py's own pause; a rate limit that resets later is BrokerBusy instead
AUTH_FAILURES = frozenset({401, 403})


def resend_wait(exc: APIError, resends: int) -> float | None:
    """How long to wait before resending a read Alpaca answered `exc`; None: do not resend it."""
    if exc.status_code not in RESENT_STATUSES or resends >= READ_RESENDS:
        return None
    wait = 0.5 * 2**resends
    if exc.status_code == 429 and exc.response is not None:
        headers = exc.response.headers
        with contextlib.suppress(TypeError, ValueError):
            if headers.get("Retry-After"):
                wait = float(headers["Retry-After"])
            elif headers.get("X-RateLimit-Reset"):
                wait = max(0.0, float(headers["X-RateLimit-Reset"]) - time.time())
    return wait if wait <= MAX_RESEND_WAIT_S else None


def rate_limited(refused: RateLimitWait) -> RateLimited:
    """The port's exception for a request the account's budget held back (it never left)."""
    return RateLimited(str(refused), retry_after_s=refused.retry_after_s)


def retry_after_of(exc: APIError, default_s: float = 1.0) -> float:
    """When Alpaca's 429 says to come back, in seconds from now: the budget's own reading of it."""
    return reset_in_s(exc.response.headers if exc.response is not None else {}, default_s)


class AlpacaCalls:
    """Every call tradeflow makes to Alpaca: in a thread of its own pool, each request bounded by the
    call's deadline (`by`, time.monotonic()) in that thread, traced in the caller's context."""

    def __init__(self, *, server: str, request_timeout_s: float, threads: int = 16) -> None:
        self.server = server
        self.request_timeout_s = request_timeout_s
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="alpaca")

    async def once(self, fn: Callable[..., Any], *args: Any, by: float | None) -> Any:
        """One request, never resent here (an order): alpaca-py's and the transport's exceptions as raised."""
        # alpaca-py answers Model | RawData; with raw_data off it is always the model. The request runs in
        # the caller's context: its CLIENT span (OTel's requests instrumentation) is the caller's child.
        call = partial(contextvars.copy_context().run, bounded_call, by, fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def read(self, fn: Callable[..., Any], *args: Any, by: float | None) -> Any:
        """A request that places nothing (a read, a cancel): resent by tradeflow while Alpaca rate-limits it
        or its gateway times out, within `by`. No answer is BrokerUnavailable, a rate limit BrokerBusy."""
        resends = 0
        while True:
            try:
                return await self.once(fn, *args, by=by)
            except RateLimitWait as refused:
                raise rate_limited(refused) from refused
            except APIError as exc:
                wait = resend_wait(exc, resends)
                if wait is not None and (by is None or time.monotonic() + wait + MIN_REQUEST_S < by):
                    resends += 1
                    await asyncio.sleep(wait)
                    continue
                if exc.status_code in AUTH_FAILURES:
                    raise BrokerUnavailable(f"Alpaca refused the credentials ({exc.status_code})") from exc
                if exc.status_code == 429:
                    raise RateLimited(
                        "Alpaca is rate limiting requests", retry_after_s=retry_after_of(exc)
                    ) from exc
                if exc.status_code is not None and exc.status_code >= 500:
                    raise BrokerUnavailable(f"Alpaca answered {exc.status_code}") from exc
                raise
            except Exception as exc:
                if is_transport_error(exc):
                    raise BrokerUnavailable(f"Alpaca unreachable: {type(exc).__name__}: {exc}") from exc
                raise

    async def local(self, fn: Callable[..., T], *args: Any) -> T:
        """A short blocking call that is not a request to Alpaca (the shared budget, the shared views)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
