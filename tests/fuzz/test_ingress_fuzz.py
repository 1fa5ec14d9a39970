"""A fuzz pass on POST /slack/events: a few thousand random bodies, headers and signatures.

The ingress may never answer 5xx, never publish anything whose signature it did not prove, and never stop
answering. The seed is printed, so a failing pass replays (TRADEFLOW_FUZZ_SEED). Counts are printed too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient

from bench.load import submission
from messages.events import SubmitTrade
from tests.ingress_app import served_ingress

SECRET = "fuzz-signing-secret"
REQUESTS = int(os.environ.get("TRADEFLOW_FUZZ_REQUESTS", "3000"))
CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    "",
    "multipart/form-data",
)


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    return (
        "v0="
        + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    )


@pytest.fixture
async def ingress() -> AsyncIterator[tuple[TestClient, list[SubmitTrade]]]:
    async with served_ingress(SECRET) as served:
        yield served


def _random_text(rng: random.Random, size: int) -> str:
    alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 =&%+{}[]":,._-/\\\n\x00é✓'
    return "".join(rng.choice(alphabet) for _ in range(size))


def _header_text(rng: random.Random) -> str:
    """Printable ASCII only: a client refuses to send control characters in a header."""
    return "".join(chr(rng.randint(32, 126)) for _ in range(rng.randint(1, 70)))


def _slash(rng: random.Random) -> bytes:
    words = [
        "buy",
        "sell",
        "hold",
        "10",
        "-5",
        "1e9",
        "NaN",
        "AAPL",
        "brk.b",
        "limit",
        "stop",
        "gtc",
        "help",
        "",
    ]
    form = {
        "command": rng.choice(["/trade", "/other", ""]),
        "text": " ".join(rng.choice(words) for _ in range(rng.randint(0, 6))),
        "user_id": rng.choice(["U123", "", "U" * 80, "U<script>"]),
        "trigger_id": "T1",
        "channel_id": rng.choice(["C1", ""]),
        "team_id": "T0",
    }
    return urlencode({k: v for k, v in form.items() if rng.random() > 0.1}).encode()


def _view_submission(rng: random.Random) -> bytes:
    body = submission(
        rng.choice(["U123", "U999", ""]),
        rng.choice(["AAPL", "aapl", "TOOLONGSYM", "", "BRK.B", "1234"]),
        rng.choice(["1", "0", "-3", "abc", "1e400", "0.5", ""]),
        rng.choice(["buy", "sell", "short"]),
    )
    if rng.random() < 0.3:  # break the modal's metadata: the trade id it carries goes missing
        body = body.replace("private_metadata", rng.choice(["x", "private"]))
    return body.encode()


def _random_body(rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    if kind == 1:
        return _random_text(rng, rng.randint(0, 200)).encode()
    if kind == 2:
        return urlencode({"payload": _random_text(rng, rng.randint(0, 120))}).encode()
    if kind == 3:
        payload = {"type": rng.choice(["view_submission", "block_actions", "shortcut", "event_callback", 7])}
        payload[rng.choice(["view", "user", "team", "event"])] = rng.choice([None, [], {}, "x", 1])
        return urlencode({"payload": json.dumps(payload)}).encode()
    return json.dumps({"type": rng.choice(["url_verification", "event_callback"]), "challenge": "c"}).encode()


Case = tuple[str, bytes, dict[str, str]]


def _case(rng: random.Random) -> Case:
    """(category, body, headers) for one request; only 'signed' cases carry a valid signature."""
    now = str(int(time.time()))
    category = rng.choice(["unsigned", "forged", "stale", "tampered", "bad headers", "signed", "signed"])
    maker: Callable[[random.Random], bytes] = rng.choice([_slash, _view_submission, _random_body])
    body = maker(rng)
    headers = {"Content-Type": rng.choice(CONTENT_TYPES)}
    if category == "forged":
        headers |= {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(body, now, "wrong-secret")}
    elif category == "stale":
        old = str(int(time.time()) - rng.randint(301, 10**6))
        headers |= {"X-Slack-Request-Timestamp": old, "X-Slack-Signature": sign(body, old)}
    elif category == "tampered":
        headers |= {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(body, now)}
        body = body + b"&x=1" if body else b"x"
    elif category == "bad headers":
        headers |= {
            "X-Slack-Request-Timestamp": rng.choice(["", "abc", "-1", "9" * 40, now + ".5"]),
            "X-Slack-Signature": rng.choice(["", "v0=", "v1=" + "0" * 64, _header_text(rng), "v0=zz"]),
        }
    elif category == "signed":
        headers |= {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(body, now)}
    return category, body, headers


def _view_ids(body: bytes) -> set[str]:
    """The modal view ids a body carries (a published trade keeps its modal's id)."""
    return set(re.findall(r"V[0-9A-F]{10}", body.decode("utf-8", "replace")))


async def test_random_requests_never_get_a_5xx_and_publish_only_what_was_signed(
    ingress: tuple[TestClient, list[SubmitTrade]],
) -> None:
    client, published = ingress
    seed = int(os.environ.get("TRADEFLOW_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    statuses: Counter[str] = Counter()
    signed_views: set[str] = set()
    for _ in range(REQUESTS):
        category, body, headers = _case(rng)
        if category == "signed":
            signed_views |= _view_ids(body)
        response = await client.post("/slack/events", data=body, headers=headers)
        await response.read()
        statuses[f"{category} → {response.status}"] += 1
        assert response.status < 500, f"seed {seed}: {category} got {response.status}: {body[:200]!r}"
        if category != "signed":  # forged: 401; malformed (not UTF-8): 400
            assert response.status in (400, 401), f"seed {seed}: {category} was not refused: {body[:200]!r}"
    print(f"fuzz seed {seed}: {REQUESTS} requests, {len(published)} trades published")
    for line, count in sorted(statuses.items()):
        print(f"  {line}: {count}")
    assert {t.trade.slack_view_id for t in published} <= signed_views, f"seed {seed}: an unsigned publish"
    assert (await client.get("/healthz")).status == 200  # still answering
