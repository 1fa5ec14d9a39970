"""Which DynamoDB errors are transient, and turning them into the port's StoreUnavailable."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import aiohttp
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from workers.store.port import StoreUnavailable

# Error codes that say "try again later", never "your request was wrong".
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)
# The same, as TransactionCanceledException spells them per item.
TRANSIENT_CANCELLATION_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict", "RequestLimitExceeded"}
)
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(exc: ClientError) -> list[str]:
    """One code per item of a cancelled transaction ("None" when that item was fine)."""
    reasons = exc.response.get("CancellationReasons")
    if reasons:
        return [str(reason.get("Code", "None")) for reason in reasons]
    # Without the structured list, the message still names them: "... reasons [ConditionalCheckFailed, None]".
    match = re.search(r"\[([^\]]*)\]", str(exc.response.get("Error", {}).get("Message", "")))
    return [code.strip() for code in match.group(1).split(",")] if match else []


def is_transient(exc: ClientError) -> bool:
    code = error_code(exc)
    if code in TRANSIENT_ERROR_CODES:
        return True
    if code == "TransactionCanceledException":
        return not TRANSIENT_CANCELLATION_REASONS.isdisjoint(cancellation_reasons(exc))
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500


@contextlib.contextmanager
def transient_faults_as_unavailable(operation: str) -> Iterator[None]:
    """Raise StoreUnavailable for throttling, 5xx, conflicts, timeouts and lost connections; let others be."""
    try:
        yield
    except ClientError as exc:
        if is_transient(exc):
            raise StoreUnavailable(f"DynamoDB {operation}: {error_code(exc)}") from exc
        raise
    except (BotocoreConnectionError, HTTPClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise StoreUnavailable(f"DynamoDB {operation}: {type(exc).__name__}: {exc}") from exc
