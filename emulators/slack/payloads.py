"""What Slack sends to an app's Request URL, built the way Slack builds it.

Sources (field names as Slack sends them):
- Signing: docs.slack.dev/authentication/verifying-requests-from-slack, slack_sdk/signature:
  `X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{X-Slack-Request-Timestamp}:{body}"))`.
- Slash commands, form-encoded: token, team_id, team_domain, channel_id, channel_name, user_id,
  user_name, command, text, api_app_id, is_enterprise_install, response_url, trigger_id
  (docs.slack.dev/interactivity/implementing-slash-commands; bolt-python tests/scenario_tests_async/
  test_slash_command.py).
- Interactivity, form-encoded `payload=<JSON>`: view_submission {type, team {id, domain}, user {id,
  username, name, team_id}, api_app_id, token, trigger_id, view, response_urls, is_enterprise_install,
  enterprise} and block_actions {type, user, api_app_id, token, container, trigger_id, team, enterprise,
  is_enterprise_install, channel, message | view, state, response_url, actions}
  (docs.slack.dev/reference/interaction-payloads; bolt-python test_view_submission.py,
  test_block_actions.py, test_block_suggestion.py for the {"type": "view", "view_id"} container).
- Events API, JSON: {token, team_id, api_app_id, event, type: "event_callback", event_id, event_time,
  authorizations [{enterprise_id, team_id, user_id, is_bot, is_enterprise_install}],
  is_ext_shared_channel, event_context}; app_home_opened's event {type, user, channel, tab, event_ts,
  view (once a Home was published)} (docs.slack.dev/reference/events/app_home_opened; bolt-python
  test_events_org_apps.py); url_verification {token, challenge, type}; ssl_check "token=…&ssl_check=1"
  (bolt-python test_ssl_check.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def sign(secret: str, timestamp: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def user_object(config: dict[str, Any], user_id: str, user_name: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": config["team_id"]}


def team_object(config: dict[str, Any]) -> dict[str, Any]:
    return {"id": config["team_id"], "domain": config["team_domain"]}


def slash_command(
    config: dict[str, Any],
    *,
    command: str,
    text: str,
    user: tuple[str, str],
    channel: tuple[str, str],
    trigger_id: str,
    response_url: str,
) -> str:
    user_id, user_name = user
    channel_id, channel_name = channel
    return urlencode(
        [
            ("token", config["verification_token"]),
            ("team_id", config["team_id"]),
            ("team_domain", config["team_domain"]),
            ("channel_id", channel_id),
            ("channel_name", channel_name),
            ("user_id", user_id),
            ("user_name", user_name),
            ("command", command),
            ("text", text),
            ("api_app_id", config["app_id"]),
            ("is_enterprise_install", "false"),
            ("response_url", response_url),
            ("trigger_id", trigger_id),
        ]
    )


def interactive(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def _interaction(kind: str, config: dict[str, Any], user: tuple[str, str], trigger_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "team": team_object(config),
        "user": user_object(config, *user),
        "api_app_id": config["app_id"],
        "token": config["verification_token"],
        "trigger_id": trigger_id,
    }


def view_submission(
    config: dict[str, Any],
    view: dict[str, Any],
    state: dict[str, Any],
    *,
    user: tuple[str, str],
    trigger_id: str,
) -> dict[str, Any]:
    return {
        **_interaction("view_submission", config, user, trigger_id),
        "view": {**view, "state": {"values": state}},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def block_actions(
    config: dict[str, Any],
    action: dict[str, Any],
    *,
    user: tuple[str, str],
    trigger_id: str,
    view: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    channel: tuple[str, str] | None = None,
    response_url: str | None = None,
) -> dict[str, Any]:
    """block_actions from an element in a view (modal or App Home), or in a message in `channel`."""
    payload = _interaction("block_actions", config, user, trigger_id)
    payload.update(enterprise=None, is_enterprise_install=False)
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view
    elif message is not None and channel is not None:
        payload["container"] = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel[0],
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel[0], "name": channel[1]}
        payload["message"] = message
        payload["state"] = {"values": {}}
        payload["response_url"] = response_url
    payload["actions"] = [action]
    return payload


def event_callback(config: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {
        "token": config["verification_token"],
        "team_id": config["team_id"],
        "api_app_id": config["app_id"],
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + secrets.token_hex(5).upper(),
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": config["team_id"],
                "user_id": config["bot_user_id"],
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_urlsafe(24),
    }


def app_home_opened(user_id: str, channel_id: str, tab: str, view: dict[str, Any] | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view
    return event


def url_verification(config: dict[str, Any], challenge: str) -> dict[str, Any]:
    return {"token": config["verification_token"], "challenge": challenge, "type": "url_verification"}


def ssl_check(config: dict[str, Any]) -> str:
    return urlencode({"token": config["verification_token"], "ssl_check": "1"})
