"""What Slack checks in a view before it shows one, and the ids it fills in for blocks without them.

Limits from the view and block references (docs.slack.dev/reference/views, …/block-kit/blocks):
title, submit and close texts of at most 24 characters; at most 100 blocks; private_metadata up to
3,000 characters; callback_id, external_id, block_id and action_id up to 255; a view up to 250 kB
(`view_too_large`). Messages follow Slack's "[ERROR] … [json-pointer:/view/…]" form; those no public
sample shows verbatim are marked (emulator wording).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from emulators.slack.errors import SlackError, invalid_arguments
from emulators.slack.ids import Mint

TEXT_MAX = 24
BLOCKS_MAX = 100
ID_MAX = 255
FIELD_MAX = {"private_metadata": 3000, "callback_id": ID_MAX, "external_id": ID_MAX}
VIEW_BYTES_MAX = 250_000


def _too_long(limit: int, pointer: str) -> str:
    return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _check_text(value: Any, pointer: str, problems: list[str]) -> None:
    if value is None:
        return
    if (
        not isinstance(value, dict)
        or value.get("type") != "plain_text"
        or not isinstance(value.get("text"), str)
    ):
        problems.append(f"[ERROR] must be a plain_text object [json-pointer:{pointer}]")  # (emulator wording)
    elif len(value["text"]) > TEXT_MAX:
        problems.append(_too_long(TEXT_MAX, f"{pointer}/text"))


def elements_of(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The interactive elements of a block: an input's element, an actions block's, a section's accessory."""
    if isinstance(block.get("element"), dict):
        yield block["element"]
    if block.get("type") == "actions":
        yield from (element for element in block.get("elements") or [] if isinstance(element, dict))
    if isinstance(block.get("accessory"), dict):
        yield block["accessory"]


def _check_blocks(blocks: Any, *, modal_submit: bool, problems: list[str]) -> None:
    if not isinstance(blocks, list):
        problems.append("[ERROR] missing required field: blocks [json-pointer:/view]")
        return
    if len(blocks) > BLOCKS_MAX:
        problems.append(f"[ERROR] no more than {BLOCKS_MAX} items allowed [json-pointer:/view/blocks]")
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        pointer = f"/view/blocks/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"[ERROR] missing required field: type [json-pointer:{pointer}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > ID_MAX:
                problems.append(_too_long(ID_MAX, f"{pointer}/block_id"))
            if block_id in seen:  # (emulator wording)
                problems.append(f"[ERROR] duplicate block_id {block_id!r} [json-pointer:{pointer}/block_id]")
            seen.add(block_id)
        if block["type"] == "input":
            if not modal_submit:
                problems.append(
                    "[ERROR] must provide submit property when using input blocks [json-pointer:/view]"
                )
                modal_submit = True  # said once
            if block.get("label") is None:
                problems.append(f"[ERROR] missing required field: label [json-pointer:{pointer}]")
            if not isinstance(block.get("element"), dict):
                problems.append(f"[ERROR] missing required field: element [json-pointer:{pointer}]")
        for element in elements_of(block):
            if len(str(element.get("action_id", ""))) > ID_MAX:
                problems.append(_too_long(ID_MAX, f"{pointer}/element/action_id"))


def check_view(view: Any, *, types: tuple[str, ...]) -> dict[str, Any]:
    """The view if Slack would show it; invalid_arguments (or view_too_large) if not."""
    if not isinstance(view, dict):
        raise invalid_arguments("[ERROR] failed to match all allowed schemas [json-pointer:/view]")
    problems: list[str] = []
    kind = view.get("type")
    if kind not in types:  # (emulator wording)
        problems.append(f"[ERROR] must be one of {', '.join(types)} [json-pointer:/view/type]")
    if kind == "modal":
        if view.get("title") is None:
            problems.append("[ERROR] missing required field: title [json-pointer:/view]")
        for field in ("title", "submit", "close"):
            _check_text(view.get(field), f"/view/{field}", problems)
    _check_blocks(
        view.get("blocks"), modal_submit=kind != "modal" or view.get("submit") is not None, problems=problems
    )
    for field, limit in FIELD_MAX.items():
        value = view.get(field)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            problems.append(_too_long(limit, f"/view/{field}"))
    if problems:
        raise invalid_arguments(*problems)
    if len(json.dumps(view).encode()) > VIEW_BYTES_MAX:
        raise SlackError("view_too_large")
    return view


def with_ids(blocks: list[dict[str, Any]], mint: Mint) -> list[dict[str, Any]]:
    """A copy of the blocks with Slack's generated block_id / action_id where the app gave none."""
    filled = copy.deepcopy(blocks)
    for block in filled:
        block.setdefault("block_id", mint.block_id())
        for element in elements_of(block):
            element.setdefault("action_id", mint.block_id())
    return filled
