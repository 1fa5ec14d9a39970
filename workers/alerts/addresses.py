"""Whether an address can take an alert: an email address, or a phone number in E.164 form.

Each check returns None for a good address, else a sentence that says what is wrong, for the CLI and the
Slack command to show as it is. The channels apply them too, so a bad address is refused before any send.
"""

from __future__ import annotations

import re

# RFC 5321's limits; the local part as a dot-atom of RFC 5322's atext (no quoted strings: no relay we send
# through needs them, and they are where most address tricks live).
_MAX_ADDRESS = 254
_MAX_LOCAL = 64
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# E.164: a +, a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL_EXAMPLE = "trader@example.com"
PHONE_EXAMPLE = "+15551234567"


def email_problem(address: str) -> str | None:
    """None when `address` is an email address alerts can go to, else what is wrong with it."""
    if not address:
        return "the email address is empty"
    if not address.isascii() or any(c.isspace() for c in address):
        return f"{address!r} is not an email address: use plain ASCII, no spaces (e.g. {EMAIL_EXAMPLE})"
    if len(address) > _MAX_ADDRESS:
        return f"the email address is longer than {_MAX_ADDRESS} characters"
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return f"{address!r} is not an email address: it needs a name, an @ and a domain ({EMAIL_EXAMPLE})"
    if len(local) > _MAX_LOCAL or not _LOCAL.match(local):
        return f"{address!r} is not an email address: the part before the @ is not a valid mailbox name"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return f"{address!r} is not an email address: {domain!r} is not a domain name like example.com"
    if not labels[-1].isalpha():
        return f"{address!r} is not an email address: {domain!r} does not end in a top-level domain"
    return None


def phone_problem(number: str) -> str | None:
    """None when `number` is a phone number in E.164 form (what Amazon SNS sends SMS to), else what is
    wrong with it."""
    if not number:
        return "the phone number is empty"
    if _E164.match(number):
        return None
    return (
        f"{number!r} is not a phone number in E.164 form: a +, the country code and the number, digits only, "
        f"no spaces (e.g. {PHONE_EXAMPLE})"
    )
