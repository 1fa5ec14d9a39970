"""A dead letter shown to an operator never shows a secret: not in its reason, traceback, payload or body."""

from __future__ import annotations

import base64
import json

from workers.console.dlq.render import redact_document, render_show

SECRET = "PKPLANTEDDLQSECRET01"


def _letter(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "queue": "execution.XQ",
        "found": True,
        "message_id": "m-1",
        "trade_id": None,
        "message_type": "SubmitTrade",
        "actor": "validation",
        "reason": f"MessageDecodeError: Invalid value '{SECRET}' - at `$.type`",
        "retries": 0,
        "permanent": True,
        "dead_lettered_at": None,
        "age_s": 3,
        "traceback": f"Traceback (most recent call last):\n  ...\nMessageDecodeError: '{SECRET}'\n",
        "failures": [{"attempt": 1, "at": None, "error": f"refused {SECRET}"}],
        "x_death": None,
        "payload": {"type": SECRET, "trade": {"user_id": "U1", "note": "Bearer abc.def.ghi"}},
        "options": {},
        "replayable": True,
    }
    doc.update(changes)
    return doc


def test_every_string_of_a_dead_letter_is_masked_and_the_rest_kept() -> None:
    shown = redact_document(_letter(), [SECRET])
    assert SECRET not in json.dumps(shown) and "abc.def.ghi" not in json.dumps(shown)
    assert shown["reason"] == "MessageDecodeError: Invalid value '***' - at `$.type`"
    assert shown["failures"] == [{"attempt": 1, "at": None, "error": "refused ***"}]
    assert shown["payload"] == {"type": "***", "trade": {"user_id": "U1", "note": "Bearer ***"}}
    assert (shown["retries"], shown["permanent"], shown["age_s"]) == (0, True, 3)
    assert SECRET not in render_show(shown)


def test_a_binary_body_is_masked_in_its_bytes() -> None:
    raw = b"\x00\xff token=" + SECRET.encode() + b" \x80\x81"
    letter = _letter(body=base64.b64encode(raw).decode(), body_encoding="base64", replayable=False)
    del letter["payload"], letter["options"]
    shown = redact_document(letter, [SECRET])
    assert base64.b64decode(shown["body"]) == b"\x00\xff token=*** \x80\x81"
    text_body = redact_document(_letter(body=f"not json {SECRET}", body_encoding="utf-8"), [SECRET])
    assert text_body["body"] == "not json ***"
