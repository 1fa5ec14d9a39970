"""The admin API under /admin: faults, config, reset, triggers, and what the app did in Slack.

No credentials: it listens on loopback with the rest of the emulator and is for tests and operators.
  GET /admin/status                                            a summary
  POST /admin/reset             {optional config changes}      back to the start state
  GET|POST /admin/config        {"trigger_ttl_s": 0.2, "post_burst": 1, …} (see EmulatorConfig)
  GET|POST|DELETE /admin/faults                                (see faults.py; no_answer: the ambiguous post)
  GET|DELETE /admin/calls       ?method=                       every Web API call, in arrival order
  POST /admin/triggers          {"user_id": "U…"}              mint a trigger_id (Slack's side does)
  GET /admin/triggers/{id}                                     its age, and the view it opened
  GET /admin/views              ?user_id=&type=&status=&trigger_id=   view records, in open order
  GET /admin/views/{id}                                        one record: status, errors, the view
  POST /admin/views/{id}/close  {"reason": "…"}                the user closed the modal
  POST /admin/views/{id}/answer {"state", "status", "body"}    apply the app's view_submission answer
  GET /admin/messages           ?channel=&user=&kind=&offset=  what the app posted (from the offset-th on),
                                                               with `answer_lost` (a fault kind or null)
  GET /admin/home/{user_id}                                    every App Home published to the user
  GET|POST /admin/channels      {"id": "C…", "name": "…"}
  POST /admin/dms               {"user_id": "U…"}              the user's DM channel with the bot
  POST /admin/response-urls     {"kind", "user_id", "channel_id"}     mint a response_url
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from emulators.slack.faults import FaultSpec
from emulators.slack.ids import is_user_id
from emulators.slack.web_api import reply, workspace_of


class AdminError(web.HTTPBadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(
            text=msgspec.json.encode({"error": message}).decode(), content_type="application/json"
        )


def _not_found(what: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(
        text=msgspec.json.encode({"error": f"{what} not found"}).decode(), content_type="application/json"
    )


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise AdminError("body is not JSON") from None
    if not isinstance(body, dict):
        raise AdminError("body must be a JSON object")
    return body


async def _user_id(request: web.Request) -> tuple[dict[str, Any], str]:
    body = await _body(request)
    user_id = body.get("user_id")
    if not is_user_id(user_id):
        raise AdminError('give a "user_id" like "U0TRADER1"')
    return body, user_id


async def get_status(request: web.Request) -> web.Response:
    return reply(workspace_of(request).status())


async def reset(request: web.Request) -> web.Response:
    try:
        workspace_of(request).reset(await _body(request))
    except (msgspec.ValidationError, ValueError) as exc:
        raise AdminError(str(exc)) from None
    return reply({"reset": True})


async def get_config(request: web.Request) -> web.Response:
    return reply(workspace_of(request).config_json())


async def post_config(request: web.Request) -> web.Response:
    ws = workspace_of(request)
    try:
        ws.reconfigure(await _body(request))
    except (msgspec.ValidationError, ValueError) as exc:
        raise AdminError(str(exc)) from None
    return reply(ws.config_json())


async def get_faults(request: web.Request) -> web.Response:
    return reply(workspace_of(request).faults.to_json())


async def post_fault(request: web.Request) -> web.Response:
    try:
        spec = msgspec.convert(await _body(request), FaultSpec)
    except (msgspec.ValidationError, ValueError) as exc:
        raise AdminError(str(exc)) from None
    return reply(workspace_of(request).faults.add(spec).to_json(), status=201)


async def delete_faults(request: web.Request) -> web.Response:
    workspace_of(request).faults.clear()
    return web.Response(status=204)


async def get_calls(request: web.Request) -> web.Response:
    return reply(workspace_of(request).calls.to_json(request.query.get("method")))


async def delete_calls(request: web.Request) -> web.Response:
    workspace_of(request).calls.clear()
    return web.Response(status=204)


async def post_trigger(request: web.Request) -> web.Response:
    ws = workspace_of(request)
    body, user_id = await _user_id(request)
    trigger = ws.triggers.mint(user_id, str(body.get("team_id") or ws.config.team_id))
    return reply(trigger.to_json(), status=201)


async def get_trigger(request: web.Request) -> web.Response:
    trigger = workspace_of(request).triggers.get(request.match_info["trigger_id"])
    if trigger is None:
        raise _not_found("trigger")
    return reply(trigger.to_json())


async def get_views(request: web.Request) -> web.Response:
    q = request.query
    records = workspace_of(request).views.records(user_id=q.get("user_id"), kind=q.get("type"))
    return reply(
        [
            r.to_json()
            for r in records
            if q.get("status") in (None, r.status) and q.get("trigger_id") in (None, r.trigger_id)
        ]
    )


async def get_view(request: web.Request) -> web.Response:
    record = workspace_of(request).views.get(request.match_info["view_id"])
    if record is None:
        raise _not_found("view")
    return reply(record.to_json())


async def close_view(request: web.Request) -> web.Response:
    ws, view_id = workspace_of(request), request.match_info["view_id"]
    if ws.views.get(view_id) is None:
        raise _not_found("view")
    reason = str((await _body(request)).get("reason") or "closed_by_user")
    return reply(ws.views.close(view_id, reason).to_json())


async def answer_view(request: web.Request) -> web.Response:
    ws, view_id = workspace_of(request), request.match_info["view_id"]
    if ws.views.get(view_id) is None:
        raise _not_found("view")
    body = await _body(request)
    state = body.get("state")
    if state is not None and not isinstance(state, dict):
        raise AdminError('"state" must be the submitted state.values object')
    return reply(ws.views.answer(view_id, state, int(body.get("status", 200)), body.get("body")))


async def get_messages(request: web.Request) -> web.Response:
    q = request.query
    chat = workspace_of(request).chat
    offset = q.get("offset", "0")
    if not offset.isdigit():
        raise AdminError(f"offset must be a whole number of messages, got {offset!r}")
    return reply(
        chat.find(channel=q.get("channel"), user=q.get("user"), kind=q.get("kind"), offset=int(offset))
    )


async def get_home(request: web.Request) -> web.Response:
    return reply(workspace_of(request).views.home_history(request.match_info["user_id"]))


async def get_channels(request: web.Request) -> web.Response:
    return reply(workspace_of(request).chat.channels)


async def post_channel(request: web.Request) -> web.Response:
    body = await _body(request)
    channel_id = body.get("id")
    if not isinstance(channel_id, str) or channel_id[:1] not in ("C", "G"):
        raise AdminError('give an "id" like "C0TRADING"')
    chat = workspace_of(request).chat
    chat.add_channel(channel_id, body.get("name"))
    return reply({"id": channel_id, "name": chat.channels[channel_id]}, status=201)


async def post_dm(request: web.Request) -> web.Response:
    _, user_id = await _user_id(request)
    channel_id, already_open = workspace_of(request).chat.open_dm(user_id)
    return reply({"channel": channel_id, "already_open": already_open})


async def post_response_url(request: web.Request) -> web.Response:
    ws = workspace_of(request)
    body, user_id = await _user_id(request)
    kind = body.get("kind", "commands")
    if kind not in ("commands", "actions") or not body.get("channel_id"):
        raise AdminError('give "kind" ("commands" or "actions") and "channel_id"')
    secret = ws.mint.secret()
    ws.hooks[secret] = {"user_id": user_id, "channel_id": body["channel_id"]}
    url = f"{request.scheme}://{request.host}/{kind}/{ws.config.team_id}/{len(ws.hooks)}/{secret}"
    return reply({"response_url": url}, status=201)


def add_routes(app: web.Application) -> None:
    route = app.router
    route.add_get("/admin/status", get_status)
    route.add_post("/admin/reset", reset)
    route.add_get("/admin/config", get_config)
    route.add_post("/admin/config", post_config)
    route.add_get("/admin/faults", get_faults)
    route.add_post("/admin/faults", post_fault)
    route.add_delete("/admin/faults", delete_faults)
    route.add_get("/admin/calls", get_calls)
    route.add_delete("/admin/calls", delete_calls)
    route.add_post("/admin/triggers", post_trigger)
    route.add_get("/admin/triggers/{trigger_id}", get_trigger)
    route.add_get("/admin/views", get_views)
    route.add_get("/admin/views/{view_id}", get_view)
    route.add_post("/admin/views/{view_id}/close", close_view)
    route.add_post("/admin/views/{view_id}/answer", answer_view)
    route.add_get("/admin/messages", get_messages)
    route.add_get("/admin/home/{user_id}", get_home)
    route.add_get("/admin/channels", get_channels)
    route.add_post("/admin/channels", post_channel)
    route.add_post("/admin/dms", post_dm)
    route.add_post("/admin/response-urls", post_response_url)
