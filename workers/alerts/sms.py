"""Alert text messages through Amazon SNS (aioboto3): `Publish` to a phone number, on AWS or moto's server.

SNS takes no idempotency key for SMS, so what a failure proves decides whether it may be sent again at once:
a connection never made, or a refusal (throttled, a bad parameter, no permission), sent nothing; a timeout,
a dropped connection or a 5xx after the request left may have sent it. botocore's own resends are off for
the same reason (a resend after a lost answer is a second text): the caller retries, knowing which it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, Self

import aiohttp
from aiobotocore.config import AioConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from brokers.aws_sessions import new_session, verify_for
from workers.alerts.addresses import phone_problem
from workers.handlers.ports import AlertRefused, AlertUnavailable

# A text longer than this is cut (SNS takes up to 1,600 bytes, split into 140-byte parts; an alert that
# needs more than a few parts belongs in the email).
MAX_SMS_CHARS = 600
THROTTLED = frozenset(
    {"Throttling", "ThrottlingException", "Throttled", "ThrottledException", "TooManyRequestsException"}
)
REFUSED_NUMBER = frozenset({"InvalidParameter", "ParameterValueInvalid"})
# Transactional: delivered for its urgency (SNS's default, Promotional, is cheaper and may be dropped).
SMS_ATTRIBUTES = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}


class SnsSms:
    """Publishes each alert as an SMS to a phone number through one SNS client, opened once."""

    def __init__(
        self, client: Any, exit_stack: contextlib.AsyncExitStack, endpoint: str, timeout_s: float = 10.0
    ) -> None:
        self._client = client
        self._exit_stack = exit_stack
        self.endpoint = endpoint
        self._timeout_s = timeout_s

    @classmethod
    async def open(
        cls,
        *,
        region: str,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timeout_s: float = 10.0,
    ) -> Self:
        """Open the client; no request is sent here. `endpoint_url` None: AWS's regional endpoint."""
        config = AioConfig(
            connect_timeout=timeout_s / 2,  # a connection never made is told as such, within the total
            read_timeout=timeout_s,
            retries={"mode": "standard", "total_max_attempts": 1},  # no resend: see the module's docstring
        )
        exit_stack = contextlib.AsyncExitStack()
        client = await exit_stack.enter_async_context(
            new_session().create_client(
                "sns",
                region_name=region,
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
                verify=verify_for(endpoint_url),
            )
        )
        return cls(client, exit_stack, endpoint_url or f"SNS {region}", timeout_s)

    async def send(self, number: str, subject: str, body: str) -> str:
        """Text `subject` and `body` to `number` (E.164); SNS's message id. Raises AlertRefused or
        AlertUnavailable."""
        problem = phone_problem(number)
        if problem is not None:
            raise AlertRefused(problem)
        try:
            async with asyncio.timeout(self._timeout_s):  # the whole request, connection and answer
                answer = await self._client.publish(
                    PhoneNumber=number, Message=sms_text(subject, body), MessageAttributes=SMS_ATTRIBUTES
                )
        except TimeoutError as exc:
            raise AlertUnavailable(
                f"{self.endpoint} took longer than {self._timeout_s:g} s (the SMS may have been sent)"
            ) from exc
        except ClientError as exc:
            raise sns_failure(exc, number, self.endpoint) from exc
        except (ConnectTimeoutError, EndpointConnectionError) as exc:
            raise AlertUnavailable(
                f"{self.endpoint} could not be reached: {exc}", surely_unsent=_never_connected(exc)
            ) from exc
        except BotoCoreError as exc:  # a read timeout, a dropped connection: the answer is lost
            raise AlertUnavailable(
                f"{self.endpoint} did not answer (the SMS may have been sent): {exc}"
            ) from exc
        return str(answer.get("MessageId", ""))

    async def close(self) -> None:
        await self._exit_stack.aclose()


def sms_text(subject: str, body: str) -> str:
    """The text sent: the subject, then the body, cut to MAX_SMS_CHARS."""
    text = f"{subject}\n{body}" if body else subject
    return text if len(text) <= MAX_SMS_CHARS else text[: MAX_SMS_CHARS - 1] + "…"


def sns_failure(exc: ClientError, number: str, endpoint: str) -> AlertRefused | AlertUnavailable:
    """What SNS's error answer means for the SMS: the number refused for good, or a failure that did or did
    not leave it unsent."""
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in REFUSED_NUMBER:
        return AlertRefused(f"{endpoint} refused the SMS to {number}: {code} {message}")
    if code in THROTTLED or status == 429:
        return AlertUnavailable(f"{endpoint} throttled the SMS: {code} {message}", surely_unsent=True)
    if status >= 500:  # the request reached SNS, which may have acted on it before it failed
        return AlertUnavailable(f"{endpoint} failed the SMS (it may have been sent): {code} {message}")
    # Refused before acting (no permission, a KMS key): not the number's fault, and retrying may mend it.
    return AlertUnavailable(f"{endpoint} refused the SMS: {code} {message}", surely_unsent=True)


def _never_connected(exc: BotoCoreError) -> bool:
    """Whether the connection was never made (so nothing left): a connect timeout, a refused or unresolvable
    endpoint; not a connection lost mid-request, which aiobotocore reports under the same name."""
    if isinstance(exc, ConnectTimeoutError):
        return True
    cause = getattr(exc, "kwargs", {}).get("error")
    return isinstance(cause, aiohttp.ClientConnectorError | socket.gaierror)
