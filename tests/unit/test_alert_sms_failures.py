"""What SNS's error answers mean for an SMS alert: a number refused for good, or a failure that surely left
it unsent (retry at once) or may have sent it (the alerts service keeps its lease)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from workers.alerts.sms import sns_failure
from workers.handlers.ports import AlertRefused, AlertUnavailable


def answer(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Publish"
    )


@pytest.mark.parametrize("code", ["InvalidParameter", "ParameterValueInvalid"])
def test_an_invalid_number_is_refused_for_good(code: str) -> None:
    assert isinstance(sns_failure(answer(code, 400), "+15551234567", "SNS"), AlertRefused)


@pytest.mark.parametrize(
    ("code", "status", "surely_unsent"),
    [
        ("Throttling", 400, True),  # refused before acting: send again at once
        ("Throttled", 429, True),
        ("AuthorizationError", 403, True),  # a missing permission: retried, then dead-lettered, loudly
        ("KMSThrottling", 400, True),
        ("InternalError", 500, False),  # SNS may have acted before it failed
        ("ServiceUnavailable", 503, False),
    ],
)
def test_other_failures_are_unavailable_saying_whether_the_sms_surely_stayed_unsent(
    code: str, status: int, surely_unsent: bool
) -> None:
    failure = sns_failure(answer(code, status), "+15551234567", "SNS")
    assert isinstance(failure, AlertUnavailable) and failure.surely_unsent is surely_unsent
