"""How a user fills in a view in Slack's client: the `state.values` sent on submission, and the action
object sent when an element is used.

Shapes from the view_submission and block_actions payload references (docs.slack.dev/reference/
interaction-payloads) and real payloads in slack-bolt's tests: state.values is
{block_id: {action_id: {"type": <element type>, <value key>: …}}} with `value` (text and number
inputs, a string, or null when empty), `selected_option` (an option object {text, value}),
`selected_options`, `selected_date`, `selected_time`, `selected_user`, `selected_conversation`, …
An untouched input sends its initial value. The client refuses to submit while a required input is
empty or a number/text input is out of its bounds; here that is a ValueError, since Slack never
sends such a submission.
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from emulators.slack.validation import elements_of

# element type -> (its key in state.values and in a block action, the element's initial-value key)
VALUE_KEYS: dict[str, tuple[str, str]] = {
    "plain_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "multi_static_select": ("selected_options", "initial_options"),
    "checkboxes": ("selected_options", "initial_options"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
}


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    options = element.get("options") or [
        option for group in element.get("option_groups") or [] for option in group.get("options") or []
    ]
    for option in options:
        if option.get("value") == str(value):
            return copy.deepcopy(option)
    known = [o.get("value") for o in options]
    raise ValueError(f"{element.get('action_id')}: no option with value {value!r} (options: {known})")


def _check_number(element: dict[str, Any], text: str) -> None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ValueError(f"{element.get('action_id')}: {text!r} is not a number")
    if not element.get("is_decimal_allowed") and number != number.to_integral_value():
        raise ValueError(f"{element.get('action_id')}: {text!r} is not a whole number")
    low, high = element.get("min_value"), element.get("max_value")
    if (low is not None and number < Decimal(str(low))) or (high is not None and number > Decimal(str(high))):
        raise ValueError(f"{element.get('action_id')}: {text!r} is outside [{low}, {high}]")


def _check_length(element: dict[str, Any], text: str) -> None:
    low, high = element.get("min_length"), element.get("max_length")
    if (low is not None and len(text) < low) or (high is not None and len(text) > high):
        raise ValueError(f"{element.get('action_id')}: {len(text)} characters, outside [{low}, {high}]")


def entered(element: dict[str, Any], given: Any) -> Any:
    """What the client sends for a value the user entered or picked (by option value, for selects)."""
    kind = element.get("type", "")
    if kind not in VALUE_KEYS:
        raise ValueError(f"{element.get('action_id')}: cannot enter a value in a {kind} element")
    key = VALUE_KEYS[kind][0]
    if given is None or given == "" or given == []:
        return [] if key in ("selected_options", "selected_users") else None
    if key == "selected_option":
        return _option(element, given)
    if key == "selected_options":
        return [_option(element, v) for v in given]
    if key == "value":
        text = str(given)
        if kind == "number_input":
            _check_number(element, text)
        elif kind == "plain_text_input":
            _check_length(element, text)
        return text
    return given


def _entry(
    element: dict[str, Any], given: Any, supplied: bool, kept: dict[str, Any] | None
) -> dict[str, Any]:
    key, initial_key = VALUE_KEYS[element["type"]]
    if supplied:
        return {"type": element["type"], key: entered(element, given)}
    if kept is not None and kept.get("type") == element["type"]:
        return copy.deepcopy(kept)
    return {"type": element["type"], key: copy.deepcopy(element.get(initial_key))}


def _empty(entry: dict[str, Any]) -> bool:
    return all(value in (None, "", []) for key, value in entry.items() if key != "type")


def state_values(view: dict[str, Any], values: dict[str, Any], kept: Any = None) -> dict[str, dict[str, Any]]:
    """state.values for submitting `view` with `values` ({block_id: value} or {block_id: {action_id: value}}).

    Every input block is included; an untouched one sends what it shows: its entry in `kept` (the
    state of an earlier submission of this view), else its initial value. Other blocks are included
    only when given a value. Select values are option values ("buy"), not option objects.
    """
    kept = kept if isinstance(kept, dict) else {}
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    unknown = set(values) - set(blocks)
    if unknown:
        raise ValueError(f"no blocks {sorted(unknown)} in view {view.get('id')} (blocks: {sorted(blocks)})")
    state: dict[str, dict[str, Any]] = {}
    for block_id, block in blocks.items():
        if block.get("type") != "input" and block_id not in values:
            continue
        elements = [e for e in elements_of(block) if e.get("type") in VALUE_KEYS]
        given = values.get(block_id)
        if isinstance(given, dict):
            per_action = given
        elif block_id in values:
            if not elements:
                raise ValueError(f"block {block_id} has no element submit_view can fill")
            per_action = {elements[0]["action_id"]: given}
        else:
            per_action = {}
        stray = set(per_action) - {e["action_id"] for e in elements}
        if stray:
            raise ValueError(f"block {block_id} has no elements {sorted(stray)}")
        entries = {
            e["action_id"]: _entry(
                e,
                per_action.get(e["action_id"]),
                e["action_id"] in per_action,
                kept.get(block_id, {}).get(e["action_id"]),
            )
            for e in elements
        }
        if block.get("type") == "input" and not block.get("optional") and all(map(_empty, entries.values())):
            raise ValueError(f"block {block_id} is required: Slack's client would not submit the view")
        if entries:
            state[block_id] = entries
    return state


def find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for block in blocks:
        for element in elements_of(block):
            if element.get("action_id") == action_id:
                return block, element
    raise ValueError(f"no element with action_id {action_id!r}")


def block_action(
    block: dict[str, Any], element: dict[str, Any], value: Any, action_ts: str
) -> dict[str, Any]:
    """One entry of a block_actions payload's `actions`: a button's text and value, or what was picked."""
    action: dict[str, Any] = {
        "action_id": element["action_id"],
        "block_id": block["block_id"],
        "type": element.get("type"),
        "action_ts": action_ts,
    }
    if element.get("type") == "button":
        action["text"] = element.get("text")
        for key in ("value", "style", "url"):
            if key in element:
                action[key] = element[key]
    else:
        action[VALUE_KEYS.get(element.get("type", ""), ("value", ""))[0]] = entered(element, value)
    return action
