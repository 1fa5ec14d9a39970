"""Views as Slack holds them: modals opened on a trigger, updated by id, answered on submission, closed;
and each user's App Home tab.

The view object is the one views.open / views.update / views.publish answer with (their reference
pages' examples): id, team_id, type, title, submit, close, blocks, private_metadata, callback_id,
external_id, state {"values": …}, hash (new on every change), clear_on_close, notify_on_close,
root_view_id, previous_view_id, app_id, app_installed_team_id, bot_id. The examples show an untouched
view's `state.values` as an empty JSON array, and the emulator answers the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulators.slack.config import EmulatorConfig
from emulators.slack.errors import SlackError
from emulators.slack.ids import Mint
from emulators.slack.validation import check_view, elements_of, with_ids


@dataclass
class ViewRecord:
    view: dict[str, Any]
    user_id: str
    trigger_id: str | None
    status: str  # "open" or "closed" (modals); "published" (App Home)
    opened_at_s: float
    closed_reason: str | None = None
    errors: dict[str, Any] | None = None  # the last response_action "errors" shown on the modal
    versions: int = 1
    submissions: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.view["id"],
            "type": self.view["type"],
            "user_id": self.user_id,
            "trigger_id": self.trigger_id,
            "status": self.status,
            "closed_reason": self.closed_reason,
            "errors": self.errors,
            "versions": self.versions,
            "submissions": self.submissions,
            "opened_at_s": self.opened_at_s,
            "view": self.view,
        }


def _input_block_ids(view: dict[str, Any]) -> set[str]:
    return {block["block_id"] for block in view["blocks"] if block.get("type") == "input"}


class ViewStore:
    def __init__(self, config: Callable[[], EmulatorConfig], mint: Mint) -> None:
        self._config = config
        self._mint = mint
        self._records: dict[str, ViewRecord] = {}
        self._homes: dict[str, list[dict[str, Any]]] = {}  # user id -> every App Home published

    def _build(self, source: dict[str, Any], view_id: str, root: str, previous: str | None) -> dict[str, Any]:
        config = self._config()
        view: dict[str, Any] = {"id": view_id, "team_id": config.team_id, "type": source["type"]}
        if source["type"] == "modal":
            view["title"] = source.get("title")
        view.update(
            close=source.get("close"),
            submit=source.get("submit"),
            blocks=with_ids(source.get("blocks") or [], self._mint),
            private_metadata=source.get("private_metadata", ""),
            callback_id=source.get("callback_id", ""),
            external_id=source.get("external_id", ""),
            state={"values": []},
            hash=self._mint.view_hash(),
            clear_on_close=bool(source.get("clear_on_close", False)),
            notify_on_close=bool(source.get("notify_on_close", False)),
            root_view_id=root,
            previous_view_id=previous,
            app_id=config.app_id,
            app_installed_team_id=config.team_id,
            bot_id=config.bot_id,
        )
        return view

    def _check_external_id(self, source: dict[str, Any], own_id: str | None = None) -> None:
        external_id = source.get("external_id")
        if external_id and any(
            r.view["external_id"] == external_id and r.view["id"] != own_id for r in self._records.values()
        ):
            raise SlackError("duplicate_external_id")

    def _add(self, view: dict[str, Any], user_id: str, trigger_id: str | None, status: str) -> ViewRecord:
        record = ViewRecord(view, user_id, trigger_id, status, time.time())
        self._records[view["id"]] = record
        return record

    def open(self, source: dict[str, Any], user_id: str, trigger_id: str | None) -> dict[str, Any]:
        self._check_external_id(source)
        view_id = self._mint.slack_id("V")
        return self._add(self._build(source, view_id, view_id, None), user_id, trigger_id, "open").view

    def update(
        self, source: dict[str, Any], *, view_id: str | None, external_id: str | None, hash: str | None
    ) -> dict[str, Any]:
        record = self._find(view_id, external_id)
        if record is None or record.status == "closed":
            raise SlackError("not_found")
        check_view(source, types=(record.view["type"],))
        if hash is not None and hash != record.view["hash"]:
            raise SlackError("hash_conflict")
        self._check_external_id(source, own_id=record.view["id"])
        self._replace(record, source)
        return record.view

    def _replace(self, record: ViewRecord, source: dict[str, Any]) -> None:
        old = record.view
        record.view = self._build(source, old["id"], old["root_view_id"], old["previous_view_id"])
        # Slack keeps what the user typed in inputs whose block_id and action_id survive the update.
        values = old["state"]["values"]
        if isinstance(values, dict):
            kept = {
                block["block_id"]: {e["action_id"]: values[block["block_id"]][e["action_id"]]}
                for block in record.view["blocks"]
                for e in elements_of(block)
                if e.get("action_id") in values.get(block["block_id"], {})
            }
            record.view["state"] = {"values": kept or []}
        record.versions += 1
        record.errors = None

    def publish(self, user_id: str, source: dict[str, Any], hash: str | None) -> dict[str, Any]:
        history = self._homes.setdefault(user_id, [])
        current = self._records[history[-1]["id"]] if history else None
        if hash is not None and current is not None and hash != current.view["hash"]:
            raise SlackError("hash_conflict")
        if current is None:
            self._check_external_id(source)
            view_id = self._mint.slack_id("V")
            current = self._add(self._build(source, view_id, view_id, None), user_id, None, "published")
        else:
            self._check_external_id(source, own_id=current.view["id"])
            self._replace(current, source)
        history.append(current.view)
        return current.view

    def close(self, view_id: str, reason: str) -> ViewRecord:
        record = self._records[view_id]
        if record.status == "open":
            record.status, record.closed_reason = "closed", reason
        return record

    def answer(self, view_id: str, state: dict[str, Any] | None, status: int, body: Any) -> dict[str, Any]:
        """Apply the app's answer to a view_submission the way Slack's client does; returns
        {outcome, problem, record, pushed}."""
        record = self._records[view_id]
        record.submissions += 1
        if state is not None:
            record.view["state"] = {"values": state}
        action = body.get("response_action") if isinstance(body, dict) else None
        problem, pushed = None, None
        if status != 200:
            problem = f"the app answered HTTP {status}"
        elif isinstance(body, str) and body.strip():
            problem = "the app answered with a body that is not JSON"
        elif action is None:
            self.close(view_id, "submitted")
        elif action == "errors":
            problem = self._show_errors(record, body.get("errors"))
        elif action in ("update", "push"):
            try:
                source = check_view(body.get("view"), types=("modal",))
            except SlackError as refusal:
                problem = f"{refusal.error}: {refusal.messages}"
            else:
                if action == "update":
                    self._replace(record, source)
                else:
                    view = self._build(source, self._mint.slack_id("V"), record.view["root_view_id"], view_id)
                    pushed = self._add(view, record.user_id, None, "open").to_json()
        elif action == "clear":
            for other in self._records.values():
                if other.view["root_view_id"] == record.view["root_view_id"]:
                    self.close(other.view["id"], "cleared")
        else:
            problem = f"unknown response_action {action!r}"
        outcome = "app_error" if status != 200 else "invalid_response" if problem else action or "close"
        return {"outcome": outcome, "problem": problem, "record": record.to_json(), "pushed": pushed}

    def _show_errors(self, record: ViewRecord, errors: Any) -> str | None:
        """Show `errors` on the modal; the problem when Slack would refuse them (not input block ids)."""
        if not isinstance(errors, dict) or not errors:
            return "errors must be an object of block_id: message"
        unknown = set(errors) - _input_block_ids(record.view)
        if unknown:
            return f"errors must name input block_ids; not {sorted(unknown)}"
        record.errors = errors
        return None

    def _find(self, view_id: str | None, external_id: str | None) -> ViewRecord | None:
        if view_id:
            return self._records.get(view_id)
        return next((r for r in self._records.values() if r.view["external_id"] == external_id), None)

    def get(self, view_id: str) -> ViewRecord | None:
        return self._records.get(view_id)

    def records(self, *, user_id: str | None = None, kind: str | None = None) -> list[ViewRecord]:
        return [
            r
            for r in self._records.values()
            if (user_id is None or r.user_id == user_id) and (kind is None or r.view["type"] == kind)
        ]

    def home_history(self, user_id: str) -> list[dict[str, Any]]:
        return list(self._homes.get(user_id, []))
