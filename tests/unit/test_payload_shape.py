"""A signed body slack-bolt would crash on is refused before dispatch, with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from workers.slack.payload_shape import shape_problem


@pytest.mark.parametrize(
    "body",
    [
        {"command": "/trade", "text": "buy 1 AAPL", "user_id": "U1", "team_id": "T1"},
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "trade_form"}},
        {"type": "block_actions", "user": {"id": "U1"}, "team": None},
        {"type": "event_callback", "event": {"type": "app_home_opened"}},
        {"type": "url_verification", "challenge": "c"},
    ],
)
def test_what_slack_sends_passes(body: dict[str, Any]) -> None:
    assert shape_problem(body) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "not a form or a JSON object"),
        ({"type": 7, "user": 1}, "no type"),
        ({"type": "view_submission", "view": None, "user": {"id": "U1"}}, "without a view object"),
        ({"type": "view_submission", "view": {"callback_id": 3}, "user": {}}, "no callback_id"),
        ({"type": "block_actions", "user": "U1"}, "without a user object"),
        ({"type": "block_actions", "user": {}, "team": "T1"}, "team is not an object"),
        ({"type": "event_callback", "event": []}, "without an event object"),
        ({"command": "/trade", "user_id": None, "team_id": "T1"}, "without user_id"),
    ],
)
def test_a_malformed_body_is_named(body: Any, reason: str) -> None:
    problem = shape_problem(body)
    assert problem is not None and reason in problem
