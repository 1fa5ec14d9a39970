"""The Web API over HTTP: `POST|GET /api/{method}` with arguments in the query, a form or JSON body (as
slack-sdk sends them), a `Authorization: Bearer xoxb-…` token (or a `token` argument), armed faults,
and a record of every call."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from emulators.slack.errors import SlackError, invalid_arguments, ratelimited
from emulators.slack.faults import Fault
from emulators.slack.methods import dispatch
from emulators.slack.workspace import Workspace

WORKSPACE = web.AppKey("workspace", Workspace)
# Arguments Slack takes as JSON-encoded strings in a form body (and as objects in a JSON body).
JSON_ARGUMENTS = ("view", "blocks", "attachments", "metadata")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

Answer = tuple[int, dict[str, Any], dict[str, str]]


def reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        data, status=status, headers=headers, dumps=lambda value: json.dumps(value, separators=(",", ":"))
    )


def workspace_of(request: web.Request) -> Workspace:
    return request.app[WORKSPACE]


async def read_arguments(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            args.update(body)
        elif request.content_type in FORM_TYPES:
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            raise SlackError("invalid_post_type")
    for name in JSON_ARGUMENTS:
        if isinstance(args.get(name), str):
            try:
                args[name] = json.loads(args[name])
            except ValueError:
                raise invalid_arguments(f"[ERROR] invalid json [json-pointer:/{name}]") from None
    return args


def bearer_token(request: web.Request, args: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        args.pop("token", None)
        return header.removeprefix("Bearer ").strip() or None
    token = args.pop("token", None)
    return str(token) if token else None


def _refusal(error: SlackError) -> Answer:
    return error.status, error.body(), error.headers


async def _through_fault(
    request: web.Request, process: Callable[[], Answer], fault: Fault | None
) -> Answer | None:
    """The call answered through the fault; None means the connection was dropped."""
    if fault is None:
        return process()
    spec = fault.spec
    if fault.kind == "slow":
        if fault.phase == "before":
            await asyncio.sleep(spec.delay_s)
        answer = process()
        if fault.phase == "after":
            await asyncio.sleep(spec.delay_s)
        return answer
    if fault.phase == "after":
        _answer_lost(request, process(), fault)  # the call takes effect; its answer is lost
    if fault.kind == "no_answer":
        await _hold_until_the_client_leaves(request, spec.hold_s)
        return None
    if fault.kind == "drop_connection":
        if request.transport is not None:
            request.transport.abort()
        return None
    if fault.kind == "ratelimited":
        return _refusal(ratelimited(spec.retry_after_s))
    if fault.kind == "http_error":
        error = "service_unavailable" if spec.status == 503 else "internal_error"
        return spec.status, {"ok": False, "error": error}, {}
    return 200, {"ok": False, "error": spec.error}, {}  # api_error


def _answer_lost(request: web.Request, answer: Answer, fault: Fault) -> None:
    """Mark the message a call posted (if it did) as one whose answer its caller never had."""
    body = answer[1]
    ts = body.get("ts") or body.get("message_ts") if body.get("ok") else None
    if ts:
        workspace_of(request).chat.mark_answer_lost(str(ts), fault.kind)


async def _hold_until_the_client_leaves(request: web.Request, hold_s: float) -> None:
    """Keep the connection open and silent until the client closes it or `hold_s` passes, then close it."""
    deadline = time.monotonic() + hold_s
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.05)
    if request.transport is not None:
        request.transport.abort()


async def api_call(request: web.Request) -> web.Response:
    ws = workspace_of(request)
    method = request.match_info["method"]
    at_s = time.time()
    args: dict[str, Any] = {}
    unreadable: SlackError | None = None
    try:
        args = await read_arguments(request)
    except SlackError as refusal:
        unreadable = refusal
    token = bearer_token(request, args)

    def process() -> Answer:
        try:
            if unreadable is not None:
                raise unreadable
            return 200, dispatch(ws, method, token, args), {}
        except SlackError as refusal:
            return _refusal(refusal)

    channel = args.get("channel")
    fault = ws.faults.take(method, channel if isinstance(channel, str) else None)
    answer = await _through_fault(request, process, fault)
    ws.calls.record(
        method=method,
        http_method=request.method,
        token=token,
        params=args,
        status=answer[0] if answer else ("no_answer" if fault and fault.kind == "no_answer" else "dropped"),
        response=answer[1] if answer else None,
        fault=fault.kind if fault else None,
        at_s=at_s,
    )
    if answer is None:
        return web.Response(status=500)  # never reaches the client
    status, body, headers = answer
    return reply(body, status=status, headers=headers)


async def response_url(request: web.Request) -> web.Response:
    """A response_url (slash commands, block actions): post a message back where the user acted."""
    hook = workspace_of(request).hooks.get(request.match_info["secret"])
    if hook is None:
        return web.Response(status=404, text="no_service")
    try:
        body = json.loads(await request.text())
    except ValueError:
        return web.Response(status=400, text="invalid_payload")
    if not isinstance(body, dict):
        return web.Response(status=400, text="invalid_payload")
    in_channel = body.get("response_type") == "in_channel"
    user = None if in_channel else hook["user_id"]
    workspace_of(request).chat.record("response_url", hook["channel_id"], user, body)
    return web.Response(text="ok")


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/api/{method}", api_call)
    app.router.add_post("/{kind:commands|actions}/{team}/{n}/{secret}", response_url)
