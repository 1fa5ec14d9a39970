"""The shape every Slack request must have before slack-bolt sees it.

Slack never sends a `view_submission` whose `view` is null, but a request whose signature checks out can
still carry one (a leaked secret, a broken proxy), and slack-bolt then raises while matching listeners: a
500. Checked here, such a request is refused with 400 and a reason, and nothing is dispatched.
"""

from __future__ import annotations

from typing import Any

# Which parts each kind of interactive payload must carry as JSON objects (dicts).
_OBJECTS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "view_submission": ("user", "view"),
    "view_closed": ("user", "view"),
    "block_actions": ("user",),
    "shortcut": ("user",),
    "message_action": ("user",),
    "block_suggestion": ("user",),
}


def shape_problem(body: Any) -> str | None:
    """What is wrong with a parsed Slack request body, or None when slack-bolt can dispatch it safely."""
    if not isinstance(body, dict):
        return "the body is not a form or a JSON object"
    if "command" in body:
        return _strings(body, "command", "user_id", "team_id")
    kind = body.get("type")
    if not isinstance(kind, str):
        return "the request has no type"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event_callback without an event object"
        return None
    for part in _OBJECTS_BY_TYPE.get(kind, ()):
        if not isinstance(body.get(part), dict):
            return f"a {kind} without a {part} object"
    if kind in ("view_submission", "view_closed") and not isinstance(
        body["view"].get("callback_id", ""), str
    ):
        return f"a {kind} whose view has no callback_id"
    for part in ("team", "channel", "container", "enterprise"):
        if part in body and body[part] is not None and not isinstance(body[part], dict):
            return f"a {kind} whose {part} is not an object"
    return None


def _strings(body: dict[str, Any], *names: str) -> str | None:
    for name in names:
        if not isinstance(body.get(name), str):
            return f"a slash command without {name}"
    return None
