"""The failures a `tradeflow` command expects, each told in one line with its exit code, never a traceback.

RabbitMQ or DynamoDB down, no terminal to answer a confirmation, a reader that closed the pipe (`| head`),
Ctrl-C: an operator's situation, not a bug. Anything else is a bug, and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from workers.console.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE
from workers.settings import Settings
from workers.store.port import StoreUnavailable


def unreachable_service(exc: BaseException, settings: Settings) -> str | None:
    """Which service `exc` says could not be reached, in words for the operator; None when it is not that."""
    import botocore.exceptions
    import dramatiq.errors
    import pika.exceptions

    if isinstance(exc, pika.exceptions.AMQPConnectionError | dramatiq.errors.BrokerConnectionError):
        where = ", ".join(_without_password(url) for url in settings.rabbitmq_urls)
        return f"RabbitMQ at {where} is unreachable ({type(exc).__name__})"
    if isinstance(exc, StoreUnavailable | botocore.exceptions.EndpointConnectionError):
        where = settings.aws_endpoint_url_dynamodb or f"AWS {settings.aws_region}"
        return f"DynamoDB at {where} is unreachable ({exc})"
    if isinstance(exc, botocore.exceptions.ConnectTimeoutError | botocore.exceptions.ReadTimeoutError):
        return f"DynamoDB did not answer in time ({exc})"
    return None


def run_reporting_failures(name: str, run: Callable[[], int], settings: Settings) -> int:
    """Run a command; an expected failure becomes one line on stderr and its documented exit code."""
    try:
        return run()
    except KeyboardInterrupt:
        print(f"tradeflow {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader has seen enough; nothing more is written, and Python's own flush at exit must not fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except EOFError:
        print(f"tradeflow {name}: no terminal to answer on; give --yes to confirm", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        reason = unreachable_service(exc, settings)
        if reason is None:
            raise
        print(f"tradeflow {name}: {reason}", file=sys.stderr)
        return EXIT_UNAVAILABLE


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
