"""The Web API methods: each takes the workspace and the call's arguments and returns Slack's answer.

Answer shapes follow each method's reference page (docs.slack.dev/reference/methods/<name>, whose
examples slack-ruby/slack-api-ref keeps as JSON): auth.test {url, team, user, team_id, user_id, bot_id,
is_enterprise_install}; views.* {view}; chat.postMessage {channel, ts, message}; chat.update {channel, ts,
text, message}; chat.postEphemeral {message_ts}; conversations.open {channel: {id}} (+ no_op,
already_open; the IM object with return_im); conversations.history {messages (newest first; metadata with
include_all_metadata), has_more, pin_count, response_metadata: {next_cursor}}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulators.slack.errors import SlackError, invalid_arguments
from emulators.slack.ids import is_user_id
from emulators.slack.validation import check_view
from emulators.slack.workspace import Workspace

Method = Callable[[Workspace, dict[str, Any]], dict[str, Any]]


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _view(args: dict[str, Any]) -> Any:
    if args.get("view") is None:
        raise invalid_arguments("[ERROR] missing required field: view")  # (emulator wording)
    return args["view"]


def _require_content(args: dict[str, Any]) -> None:
    if not any(args.get(name) for name in ("text", "blocks", "attachments", "markdown_text")):
        raise SlackError("no_text")


def auth_test(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    c = ws.config
    return {
        "ok": True,
        "url": f"https://{c.team_domain}.slack.com/",
        "team": c.team_name,
        "user": c.bot_user_name,
        "team_id": c.team_id,
        "user_id": c.bot_user_id,
        "bot_id": c.bot_id,
        "is_enterprise_install": False,
    }


def views_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    source = check_view(_view(args), types=("modal",))
    trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
    if not trigger_id:
        raise invalid_arguments("invalid `trigger_id`")  # views.open's reference example
    trigger = ws.triggers.check(str(trigger_id), ws.config.trigger_ttl_s)
    view = ws.views.open(source, trigger.user_id, trigger.id)
    ws.triggers.exchange(trigger, view["id"])
    return {"ok": True, "view": view}


def views_update(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    view_id, external_id = args.get("view_id"), args.get("external_id")
    if not view_id and not external_id:
        raise invalid_arguments("[ERROR] either view_id or external_id is required")  # (emulator wording)
    view = ws.views.update(_view(args), view_id=view_id, external_id=external_id, hash=args.get("hash"))
    return {"ok": True, "view": view}


def views_publish(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user_id = args.get("user_id")
    if not is_user_id(user_id):
        raise invalid_arguments("invalid `user_id`")  # views.publish's reference example
    source = check_view(_view(args), types=("home",))
    return {"ok": True, "view": ws.views.publish(user_id, source, args.get("hash"))}


def chat_post_message(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel_id, user_id = ws.chat.resolve(args.get("channel"))
    _require_content(args)
    ws.chat.admit(channel_id)
    message = ws.chat.record("message", channel_id, user_id, args)
    c = ws.config
    shown: dict[str, Any] = {
        "user": c.bot_user_id,
        "type": "message",
        "ts": message["ts"],
        "bot_id": c.bot_id,
        "app_id": c.app_id,
        "text": args.get("text", ""),
        "team": c.team_id,
    }
    shown.update({k: message[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if message[k]})
    return {"ok": True, "channel": channel_id, "ts": message["ts"], "message": shown}


def chat_update(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """chat.update: `channel` must be an id (a DM's D…, never a user id or a #name), `ts` one of the app's
    messages there; the answer as its reference page shows it {channel, ts, text, message}."""
    channel = args.get("channel")
    if not isinstance(channel, str) or (
        channel not in ws.chat.channels and channel not in ws.chat.user_of_dm
    ):
        raise SlackError("channel_not_found")
    _require_content(args)
    message = ws.chat.update(channel, str(args.get("ts") or ""), args)
    c = ws.config
    shown: dict[str, Any] = {"type": "message", "user": c.bot_user_id, "bot_id": c.bot_id, "app_id": c.app_id}
    shown.update(text=message["text"] or "", ts=message["ts"], team=c.team_id)
    if message["blocks"]:
        shown["blocks"] = message["blocks"]
    return {
        "ok": True,
        "channel": channel,
        "ts": message["ts"],
        "text": message["text"] or "",
        "message": shown,
    }


def chat_post_ephemeral(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel_id, _ = ws.chat.resolve(args.get("channel"))
    user_id = args.get("user")
    if not is_user_id(user_id):
        raise SlackError("user_not_in_channel")
    _require_content(args)
    message = ws.chat.record("ephemeral", channel_id, user_id, args)
    return {"ok": True, "message_ts": message["ts"]}


def conversations_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel, users = args.get("channel"), args.get("users")
    if channel:
        if channel not in ws.chat.user_of_dm:
            raise SlackError("channel_not_found")
        channel_id, existed = channel, True
    elif users:
        ids = [u.strip() for u in str(users).split(",") if u.strip()]
        if not all(is_user_id(u) for u in ids):
            raise SlackError("user_not_found")
        if len(ids) > 1:  # multi-person DMs are not emulated
            raise invalid_arguments("[ERROR] the emulator opens 1:1 DMs only")
        channel_id, existed = ws.chat.open_dm(ids[0])
    else:
        raise SlackError("users_list_not_supplied")
    answer: dict[str, Any] = {"ok": True}
    if existed:
        answer.update(no_op=True, already_open=True)
    answer["channel"] = (
        ws.chat.im_object(channel_id) if _truthy(args.get("return_im")) else {"id": channel_id}
    )
    return answer


def conversations_history(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    """Messages the app posted in a conversation, newest first, paged by cursor (reference page shape)."""
    channel = args.get("channel")
    if not isinstance(channel, str) or (
        channel not in ws.chat.user_of_dm and channel not in ws.chat.channels
    ):
        raise SlackError("channel_not_found")
    try:
        limit = int(args.get("limit") or 100)
        offset = int(args.get("cursor") or 0)
    except ValueError:
        raise SlackError("invalid_cursor") from None
    if not 1 <= limit <= 999:
        raise SlackError("invalid_limit")
    inclusive = _truthy(args.get("inclusive"))
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")

    def inside(ts: float) -> bool:
        return (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)

    found = [m for m in reversed(ws.chat.find(channel=channel, kind="message")) if inside(float(m["ts"]))]
    page = found[offset : offset + limit]
    metadata = _truthy(args.get("include_all_metadata"))
    messages = [_history_message(ws, m, metadata) for m in page]
    has_more = offset + limit < len(found)
    answer: dict[str, Any] = {"ok": True, "messages": messages, "has_more": has_more, "pin_count": 0}
    answer["response_metadata"] = {"next_cursor": str(offset + limit) if has_more else ""}
    return answer


def _history_message(ws: Workspace, message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    c = ws.config
    shown: dict[str, Any] = {
        "type": "message",
        "user": c.bot_user_id,
        "bot_id": c.bot_id,
        "app_id": c.app_id,
        "text": message["text"] or "",
        "ts": message["ts"],
        "team": c.team_id,
    }
    shown.update({k: message[k] for k in ("blocks", "attachments", "thread_ts") if message[k]})
    if with_metadata and message["metadata"]:
        shown["metadata"] = message["metadata"]
    return shown


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "views.open": views_open,
    "views.update": views_update,
    "views.publish": views_publish,
    "chat.postMessage": chat_post_message,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.update": chat_update,
    "conversations.open": conversations_open,
    "conversations.history": conversations_history,
}


def dispatch(ws: Workspace, method: str, token: str | None, args: dict[str, Any]) -> dict[str, Any]:
    """Slack's answer to one call: unknown method, then the token, then the method itself."""
    handler = METHODS.get(method)
    if handler is None:
        raise SlackError("unknown_method", status=404, extra={"req_method": method})
    if not token:
        raise SlackError("not_authed")
    if token != ws.config.bot_token:
        raise SlackError("invalid_auth")
    return handler(ws, args)
