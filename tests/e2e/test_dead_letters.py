"""Poison messages land in `<queue>.XQ` with their reason, and the next good trade still goes through."""

from __future__ import annotations

import json

import msgspec
import pytest

from messages.codec import to_payload
from messages.events import TradeRecorded
from tests.e2e.stack import Stack
from tests.waiting import eventually
from workers.console.trades.submit import build_command

pytestmark = pytest.mark.e2e


def _envelope(queue: str, actor: str, payload: object) -> bytes:
    return msgspec.json.encode(
        {
            "queue_name": queue,
            "actor_name": actor,
            "args": [payload],
            "kwargs": {},
            "options": {},
            "message_id": "poison-" + actor,
            "message_timestamp": 0,
        }
    )


def test_poison_messages_are_dead_lettered_with_their_reason(stack: Stack) -> None:
    validation, execution = stack.queue("validation"), stack.queue("execution")
    stack.queues.publish_raw(validation, b"\x00\x01 this is not a message")
    stack.queues.publish_raw(
        validation, _envelope(validation, "validation", {"type": "SubmitTrade", "trade": 42})
    )
    unknown = build_command(user_id="U123", side="buy", quantity="1", symbol="AAPL").trade
    recorded = TradeRecorded(trade=unknown, recorded_at=unknown.submitted_at)
    stack.queues.publish_raw(execution, _envelope(execution, "execution", to_payload(recorded)))

    eventually(
        lambda: stack.queues.count(f"{validation}.XQ") == 2 and stack.queues.count(f"{execution}.XQ") == 1
    )

    dead = stack.queues.peek_all(f"{validation}.XQ")
    raw = [body for props, body in dead if not body.startswith(b"{")]
    assert raw == [
        b"\x00\x01 this is not a message"
    ]  # RabbitMQ dead-lettered the undecodable body as it came
    [props] = [props for props, body in dead if not body.startswith(b"{")]
    assert props.headers["x-death"][0]["reason"] == "rejected"
    [envelope] = [json.loads(body) for props, body in dead if body.startswith(b"{")]
    assert "trade" in envelope["options"]["dead_letter_reason"]
    assert envelope["options"]["permanent"] is True
    assert "Traceback" in envelope["options"]["traceback"]

    [(_, body)] = stack.queues.peek_all(f"{execution}.XQ")
    dead_letter = json.loads(body)
    options = dead_letter["options"]
    assert (
        "UnknownTrade" in options["dead_letter_reason"] and "never recorded" in options["dead_letter_reason"]
    )
    assert options["retries"] == 0, options  # permanent: straight to the XQ, no retries spent
    assert dead_letter["args"] == [
        json.loads(msgspec.json.encode(to_payload(recorded)))
    ]  # replayable as it was

    done = stack.cli("submit", "--user", "U123", "buy", "2", "AAPL", "--wait", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "executed"


def test_operators_list_show_and_replay_dead_letters_from_the_cli(stack: Stack) -> None:
    execution = stack.queue("execution")
    unknown = build_command(user_id="U123", side="buy", quantity="1", symbol="AAPL").trade
    recorded = TradeRecorded(trade=unknown, recorded_at=unknown.submitted_at)
    stack.queues.publish_raw(execution, _envelope(execution, "execution", to_payload(recorded)))
    eventually(lambda: stack.queues.count(f"{execution}.XQ") == 1)

    listed = json.loads(stack.cli("dlq", "list", "execution", "--json").stdout)
    [line] = [m for q in listed["queues"] for m in q["messages"]]
    assert line["trade_id"] == str(unknown.trade_id) and "never recorded" in line["reason"]
    shown = json.loads(stack.cli("dlq", "show", "execution", line["message_id"], "--json").stdout)
    assert "UnknownTrade" in shown["traceback"]

    replayed = stack.cli("dlq", "replay", "execution", line["message_id"], "--as", "OPS1", "--json")
    assert replayed.returncode == 0, replayed.stderr
    # the trade is still unknown, so the replay fails again and is dead-lettered again: nothing is lost
    eventually(lambda: stack.queues.count(f"{execution}.XQ") == 1, timeout=20)
    assert stack.cli("dlq", "replay", "execution").returncode == 2  # neither an id nor --all
