"""`tradeflow slack trade buy 10 AAPL --user U123`: play Slack's side against the running stack.

It sends the signed `/trade` command to the ingress, submits the modal the app opened, and prints what the
trader saw: the ack, the "Submitting…" modal, then the DM. It needs the Slack emulator (`make up` runs it).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlparse

from emulators.slack.admin_client import AdminClient
from emulators.slack.driver import SlackDriver
from workers.settings import Settings


def _texts(node: Any) -> list[str]:
    """Every `text` string in a Block Kit structure, in order."""
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        return found + [t for key, value in node.items() if key != "text" for t in _texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


async def play_trade(settings: Settings, text: str, user_id: str, timeout_s: float) -> tuple[int, list[str]]:
    api = urlparse(settings.slack_api_url)
    admin = AdminClient(f"{api.scheme}://{api.netloc}")
    ingress = f"http://{settings.tradeflow_ingress_host}:{settings.tradeflow_ingress_port}/slack/events"
    driver = SlackDriver(ingress, settings.slack_signing_secret, admin, user_id=user_id)
    lines: list[str] = []
    before = len(driver.messages_to(user_id))
    command = await driver.slash_command(text)
    lines.append(f"/trade {text}  → {command.status} in {command.elapsed_s * 1000:.0f} ms")
    if command.body:
        lines.append(
            f"  app said: {command.body.get('text') if isinstance(command.body, dict) else command.body}"
        )
    trigger = command.trigger_id or ""
    view = await _eventually(lambda: driver.opened_view(trigger), 5)
    if view is None:
        return 1, [*lines, "  no trade form was opened"]
    answer = await driver.submit_view(view)
    body = answer.body if isinstance(answer.body, dict) else {}
    lines.append(f"Execute Trade → {body.get('response_action')} in {answer.elapsed_s * 1000:.0f} ms")
    if body.get("response_action") == "errors":
        return 1, [*lines, *(f"  {block}: {error}" for block, error in body["errors"].items())]
    lines += [f"  modal: {t}" for t in _texts(body.get("view", {}).get("blocks", []))[:3]]
    trade_id = json.loads(view["private_metadata"])["trade_id"]
    dm = await _eventually(lambda: driver.messages_to(user_id)[before:], timeout_s)
    if not dm:
        return 1, [*lines, f"no DM within {timeout_s:g} s (trade {trade_id})"]
    lines += ["", f"DM to {user_id}:", dm[-1]["text"]]
    return (0 if "Executed Successfully" in dm[-1]["text"] else 1), lines


async def _eventually(read: Any, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(read)
        if found:
            return found
        await asyncio.sleep(0.2)
    return None
