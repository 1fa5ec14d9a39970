"""The address checks the CLI, the Slack command and the channels apply: a good address passes, a bad one is
refused with a sentence that says what is wrong."""

from __future__ import annotations

import pytest

from workers.alerts.channels import email_problem, phone_problem


@pytest.mark.parametrize(
    "address", ["trader@example.com", "first.last+alerts@desk.example.co.uk", "ops_1@tradeflow.localhost"]
)
def test_an_email_address_passes(address: str) -> None:
    assert email_problem(address) is None


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("", "empty"),
        ("trader", "needs a name, an @ and a domain"),
        ("@example.com", "needs a name"),
        ("trader@localhost", "not a domain name"),
        ("trader@example.123", "top-level domain"),
        ("trader@-example.com", "not a domain name"),
        ("tra..der@example.com", "mailbox name"),
        ("trader @example.com", "no spaces"),
        ("trader@example.com\r\nBcc: x@evil.example", "no spaces"),
        ("trädér@example.com", "ASCII"),
        ("a" * 65 + "@example.com", "mailbox name"),
    ],
)
def test_a_bad_email_address_is_refused_saying_why(address: str, said: str) -> None:
    problem = email_problem(address)
    assert problem is not None and said in problem


@pytest.mark.parametrize("number", ["+15551234567", "+447700900123", "+33612345678"])
def test_an_e164_number_passes(number: str) -> None:
    assert phone_problem(number) is None


@pytest.mark.parametrize(
    "number",
    ["", "15551234567", "+1 555 123 4567", "+1-555-123-4567", "+05551234567", "+1234", "+1" + "5" * 15],
)
def test_a_number_not_in_e164_form_is_refused_with_an_example(number: str) -> None:
    problem = phone_problem(number)
    assert problem is not None and ("+15551234567" in problem or "empty" in problem)
