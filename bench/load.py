"""Signed Slack `view_submission` requests, as Slack sends them when a trader clicks Execute Trade."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode

from workers.slack.forms import trade_modal
from workers.slack.trade_text import Prefill

SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "SPY")


def submission(user_id: str, symbol: str, quantity: str = "1", side: str = "buy") -> str:
    """The form body of one Execute Trade click: a fresh modal (so a fresh trade id) filled in."""
    view = trade_modal(uuid.uuid4(), "C0BENCH", Prefill())
    values = {
        "side": ("static_select", side),
        "symbol": ("plain_text_input", symbol),
        "quantity": ("plain_text_input", quantity),
        "order_type": ("static_select", "market"),
        "limit_price": ("plain_text_input", None),
        "stop_price": ("plain_text_input", None),
        "time_in_force": ("static_select", "day"),
    }
    state = {
        block: {
            block: (
                {"type": kind, "selected_option": {"value": value}}
                if kind == "static_select"
                else {"type": kind, "value": value}
            )
        }
        for block, (kind, value) in values.items()
    }
    view = {**view, "id": f"V{uuid.uuid4().hex[:10].upper()}", "state": {"values": state}}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0BENCH"},
        "user": {"id": user_id},
        "api_app_id": "A0BENCH",
        "trigger_id": "0.0.bench",
        "view": view,
    }
    return urlencode({"payload": json.dumps(payload)})


def signed(secret: str, body: str) -> dict[str, str]:
    """Slack's v0 request signature headers for `body`, stamped now."""
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def trade_id_of(body: str) -> uuid.UUID:
    """The trade id a submission carries (the modal's private_metadata holds it)."""
    from urllib.parse import parse_qs

    payload = json.loads(parse_qs(body)["payload"][0])
    metadata = json.loads(payload["view"]["private_metadata"])
    return uuid.UUID(metadata["trade_id"])
