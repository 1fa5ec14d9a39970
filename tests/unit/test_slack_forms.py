"""The trade modal: the slash command's text, the form's errors by block, and the submission as a trade."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest

from messages.events import SubmitTrade
from workers.slack.forms import read_submission, trade_modal
from workers.slack.trade_text import BadTradeText, Prefill, parse_trade_text


def submitted(values: dict[str, str | None], trade_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A view_submission's view, as Slack sends it: state.values[block_id][action_id]."""
    selects = {"side", "order_type", "time_in_force"}
    state: dict[str, Any] = {}
    for block_id, value in values.items():
        if block_id in selects:
            element = {"type": "static_select", "selected_option": {"value": value} if value else None}
        else:
            element = {"type": "plain_text_input", "value": value}
        state[block_id] = {block_id: element}
    metadata = json.dumps({"trade_id": str(trade_id or uuid.uuid4()), "channel_id": "C42"})
    return {"id": "V123", "private_metadata": metadata, "state": {"values": state}}


GOOD = {
    "side": "buy",
    "symbol": "aapl",
    "quantity": "10",
    "order_type": "market",
    "limit_price": None,
    "stop_price": None,
    "time_in_force": "day",
}


@pytest.mark.parametrize(
    ("text", "prefill"),
    [
        ("", Prefill()),
        ("buy 100 AAPL", Prefill(side="buy", quantity="100", symbol="AAPL")),
        (
            "sell 5 msft limit 410.50",
            Prefill(side="sell", quantity="5", symbol="MSFT", order_type="limit", limit_price="410.50"),
        ),
        (
            "buy 10 TSLA stop_limit 250 252 gtc",
            Prefill(
                side="buy",
                quantity="10",
                symbol="TSLA",
                order_type="stop_limit",
                stop_price="250",
                limit_price="252",
                time_in_force="gtc",
            ),
        ),
    ],
)
def test_the_slash_command_text_prefills_the_form(text: str, prefill: Prefill) -> None:
    assert parse_trade_text(text) == prefill


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hold 10 AAPL", "side"),
        ("buy ten AAPL", "quantity"),
        ("buy 10", "not an order"),
        ("sell 5 MSFT limit", "price"),
        ("sell 5 MSFT iceberg 3", "order type"),
        ("buy 1E-200 AAPL", "quantity"),
        ("buy 0.0000000001 AAPL", "quantity"),
        ("buy 1E+12 AAPL", "quantity"),
        ("sell 5 MSFT limit 9E+999999", "price"),
        ("buy 10 TSLA stop_limit 250 1E-130", "price"),
    ],
)
def test_bad_slash_command_text_says_what_was_wrong(text: str, words: str) -> None:
    with pytest.raises(BadTradeText, match=words):
        parse_trade_text(text)


def test_the_modal_carries_the_trade_id_and_channel_and_prefill() -> None:
    trade_id = uuid.uuid4()
    view = trade_modal(trade_id, "C42", parse_trade_text("sell 5 MSFT limit 410.50"))
    assert json.loads(view["private_metadata"]) == {"trade_id": str(trade_id), "channel_id": "C42"}
    assert view["submit"]["text"] == "Execute Trade"
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks["side"]["initial_option"]["value"] == "sell"
    assert blocks["limit_price"]["initial_value"] == "410.50"
    assert len(view["private_metadata"]) <= 3000


def test_a_good_submission_is_a_trade_with_the_modals_id() -> None:
    trade_id = uuid.uuid4()
    command = read_submission(submitted(GOOD, trade_id), user_id="U123")
    assert isinstance(command, SubmitTrade)
    assert command.trade.trade_id == trade_id and command.trade.symbol == "AAPL"
    assert command.trade.quantity == Decimal(10) and command.trade.channel_id == "C42"
    assert command.trade.slack_view_id == "V123" and command.trade.source == "slack"


@pytest.mark.parametrize(
    ("changes", "block_id"),
    [
        ({"quantity": "-3"}, "quantity"),
        ({"symbol": "aa$"}, "symbol"),
        ({"order_type": "limit"}, "limit_price"),
        ({"order_type": "stop"}, "stop_price"),
        ({"limit_price": "400"}, "limit_price"),
        ({"side": None}, "side"),
        ({"quantity": "1E-200"}, "quantity"),
        ({"quantity": "12345678901234"}, "quantity"),
        ({"quantity": "1.0000000001"}, "quantity"),
        ({"order_type": "limit", "limit_price": "9E+999999"}, "limit_price"),
        ({"order_type": "stop", "stop_price": "1E-200"}, "stop_price"),
        ({"order_type": "stop_limit", "stop_price": "9" * 3000, "limit_price": "1"}, "stop_price"),
    ],
)
def test_a_bad_form_gets_errors_keyed_by_block_id(changes: dict[str, str | None], block_id: str) -> None:
    errors = read_submission(submitted({**GOOD, **changes}), user_id="U123")
    assert isinstance(errors, dict) and block_id in errors
    assert all(isinstance(message, str) and message for message in errors.values())


def ticked(values: dict[str, str | None], extended_hours: bool) -> dict[str, Any]:
    view = submitted(values)
    options = [{"value": "on"}] if extended_hours else []
    view["state"]["values"]["extended_hours"] = {
        "extended_hours": {"type": "checkboxes", "selected_options": options}
    }
    return view


@pytest.mark.parametrize(
    ("text", "prefill"),
    [
        ("buy $500 AAPL", Prefill(side="buy", quantity="$500", symbol="AAPL")),
        (
            "sell 10 aapl trailing 2% gtc",
            Prefill(
                side="sell",
                quantity="10",
                symbol="AAPL",
                order_type="trailing_stop",
                trail="2%",
                time_in_force="gtc",
            ),
        ),
        (
            "buy 5 MSFT limit 400 ext",
            Prefill(
                side="buy",
                quantity="5",
                symbol="MSFT",
                order_type="limit",
                limit_price="400",
                extended_hours=True,
            ),
        ),
    ],
)
def test_the_slash_command_writes_dollars_trails_and_extended_hours(text: str, prefill: Prefill) -> None:
    assert parse_trade_text(text) == prefill


@pytest.mark.parametrize(
    ("text", "words"),
    [("buy $-5 AAPL", "not a quantity"), ("sell 10 AAPL trailing 2%%", "trailing stop order")],
)
def test_a_bad_dollar_amount_or_trail_in_the_slash_command_is_named(text: str, words: str) -> None:
    with pytest.raises(BadTradeText, match=words):
        parse_trade_text(text)


def test_the_modal_prefills_the_trail_and_the_extended_hours_box() -> None:
    view = trade_modal(uuid.uuid4(), "C42", parse_trade_text("buy 5 MSFT limit 400 ext"))
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks["extended_hours"]["initial_options"][0]["value"] == "on"
    trailing = trade_modal(uuid.uuid4(), "C42", parse_trade_text("sell 1 MSFT trailing 1.50"))
    assert {b["block_id"]: b["element"] for b in trailing["blocks"]}["trail"]["initial_value"] == "1.50"


def test_the_modal_submits_a_dollar_amount_a_trailing_stop_and_an_extended_hours_limit() -> None:
    dollars = read_submission(submitted({**GOOD, "quantity": "$500"}), user_id="U123")
    assert isinstance(dollars, SubmitTrade)
    assert (dollars.trade.notional, dollars.trade.quantity) == (Decimal(500), None)
    trail = read_submission(submitted({**GOOD, "order_type": "trailing_stop", "trail": "2%"}), user_id="U123")
    assert isinstance(trail, SubmitTrade) and trail.trade.trail_percent == Decimal(2)
    ext = read_submission(ticked({**GOOD, "order_type": "limit", "limit_price": "99"}, True), user_id="U123")
    assert isinstance(ext, SubmitTrade) and ext.trade.extended_hours is True


@pytest.mark.parametrize(
    ("changes", "extended_hours", "block_id", "words"),
    [
        ({"quantity": "$500", "order_type": "limit", "limit_price": "99"}, False, "quantity", "market order"),
        ({"quantity": "$0"}, False, "quantity", "dollar amount"),
        ({"quantity": "$500", "time_in_force": "gtc"}, False, "time_in_force", "day order"),
        ({}, True, "extended_hours", "limit orders only"),
        ({"order_type": "trailing_stop"}, False, "trail", "exactly one"),
        ({"order_type": "trailing_stop", "trail": "two"}, False, "trail", "percent"),
        ({"trail": "2%"}, False, "trail", "takes no trail"),
        (
            {"order_type": "limit", "limit_price": "95", "order_class": "bracket", "take_profit": "94"}
            | {"stop_loss": "90"},
            False,
            "take_profit",
            "above the limit price $95",
        ),
    ],
)
def test_a_bad_order_kind_is_refused_inline_under_its_field(
    changes: dict[str, str | None], extended_hours: bool, block_id: str, words: str
) -> None:
    errors = read_submission(ticked({**GOOD, **changes}, extended_hours), user_id="U123")
    assert isinstance(errors, dict) and words in errors.get(block_id, ""), errors


def test_a_desk_of_several_accounts_gets_an_account_picker_prefilled_from_the_slash_command() -> None:
    view = trade_modal(uuid.uuid4(), "C42", parse_trade_text("buy 3 MSFT account:growth"), ("main", "growth"))
    picker = {b["block_id"]: b for b in view["blocks"]}["account"]
    assert [o["value"] for o in picker["element"]["options"]] == ["main", "growth"]
    assert picker["element"]["initial_option"]["value"] == "growth" and picker["optional"] is True
    one_account = trade_modal(uuid.uuid4(), "C42", Prefill())
    assert "account" not in {b["block_id"] for b in one_account["blocks"]}


def test_the_account_picked_goes_with_the_trade_and_one_the_desk_lacks_is_refused_under_its_field() -> None:
    desk = ("main", "growth")
    picked = read_submission(submitted({**GOOD, "account": "growth"}), user_id="U123", accounts=desk)
    assert isinstance(picked, SubmitTrade) and picked.trade.account == "growth"
    unpicked = read_submission(submitted(GOOD), user_id="U123", accounts=desk)
    assert isinstance(unpicked, SubmitTrade) and unpicked.trade.account is None  # validation: the default
    errors = read_submission(submitted({**GOOD, "account": "income"}), user_id="U123", accounts=desk)
    assert isinstance(errors, dict) and "No account named income" in errors["account"]


def test_confirm_in_the_slash_command_ticks_the_repeat_box_and_the_trade_carries_it() -> None:
    view = trade_modal(uuid.uuid4(), "C42", parse_trade_text("buy 10 AAPL confirm"))
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks["confirm_repeat"]["initial_options"][0]["value"] == "yes"
    assert (
        "initial_options"
        not in {b["block_id"]: b["element"] for b in trade_modal(uuid.uuid4(), "C42", Prefill())["blocks"]}[
            "confirm_repeat"
        ]
    )
    view = submitted(GOOD)
    view["state"]["values"]["confirm_repeat"] = {
        "confirm_repeat": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}
    }
    confirmed = read_submission(view, user_id="U123")
    assert isinstance(confirmed, SubmitTrade) and confirmed.trade.confirmed is True
    plain = read_submission(submitted(GOOD), user_id="U123")
    assert isinstance(plain, SubmitTrade) and plain.trade.confirmed is False
