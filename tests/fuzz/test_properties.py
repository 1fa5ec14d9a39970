"""Property tests: message decoding, the Slack form and the slash command never fail any other way than
their documented refusal, and whatever they accept satisfies the wire contract."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages.codec import MessageDecodeError, decode, encode, from_payload, to_payload
from messages.events import SubmitTrade, TradeRejected, TradeValidated
from messages.trade import Rejection, TradeRequest
from messages.types import amount_problem
from workers.slack.forms import read_submission, trade_modal
from workers.slack.trade_text import BadTradeText, Prefill, parse_trade_text

SYMBOL = re.compile(r"^[A-Z]{1,5}(\.[A-Z]{1,2})?$")
EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
symbols = st.from_regex(SYMBOL, fullmatch=True)
amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1_000_000), places=4)
users = st.from_regex(r"^[A-Za-z0-9_.:-]{1,20}$", fullmatch=True)


@st.composite
def trades(draw: st.DrawFn) -> TradeRequest:
    order_type = draw(st.sampled_from(["market", "limit", "stop", "stop_limit"]))
    return TradeRequest(
        trade_id=draw(st.uuids()),
        user_id=draw(users),
        symbol=draw(symbols),
        side=draw(st.sampled_from(["buy", "sell"])),
        quantity=draw(amounts),
        order_type=order_type,  # type: ignore[arg-type]
        limit_price=draw(amounts) if order_type in ("limit", "stop_limit") else None,
        stop_price=draw(amounts) if order_type in ("stop", "stop_limit") else None,
        time_in_force=draw(st.sampled_from(["day", "gtc", "ioc", "fok"])),
        submitted_at=draw(st.datetimes(timezones=st.just(UTC))),
        source=draw(st.sampled_from(["slack", "cli"])),
    )


@EXAMPLES
@given(trades(), st.sampled_from(["submit", "validated", "rejected"]))
def test_every_valid_message_survives_both_wire_forms(trade: TradeRequest, kind: str) -> None:
    message: Any = {
        "submit": SubmitTrade(trade=trade),
        "validated": TradeValidated(trade=trade, validated_at=datetime(2026, 11, 25, tzinfo=UTC)),
        "rejected": TradeRejected(
            trade=trade,
            reasons=(Rejection(code="SYMBOL_NOT_ALLOWED", field="symbol", message="not on the list"),),
            rejected_at=datetime(2026, 11, 25, tzinfo=UTC),
        ),
    }[kind]
    assert decode(encode(message)) == message
    assert from_payload(json.loads(json.dumps(to_payload(message)))) == message


@EXAMPLES
@given(json_values)
def test_any_json_decodes_to_a_message_or_a_decode_error(value: Any) -> None:
    for attempt in (lambda: decode(json.dumps(value)), lambda: from_payload(value)):
        try:
            message = attempt()
        except MessageDecodeError:
            continue
        trade = getattr(message, "trade", None)  # every message but the sweeper's carries a trade
        assert trade is None or (SYMBOL.match(trade.symbol) and trade.quantity > 0)


@EXAMPLES
@given(st.binary(max_size=200))
def test_any_bytes_decode_to_a_message_or_a_decode_error(data: bytes) -> None:
    with contextlib.suppress(MessageDecodeError):
        decode(data)


@EXAMPLES
@given(trades().map(lambda t: {"type": "SubmitTrade", "trade": msgspec.to_builtins(t)}), st.data())
def test_a_bad_field_is_refused_with_a_decode_error(payload: dict[str, Any], data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(["symbol", "side", "quantity", "trade_id", "order_type", "user_id"]))
    payload["trade"][field] = data.draw(st.sampled_from(["", "-1", "not a thing", "0", "aapl", None, 12]))
    try:
        message = from_payload(payload)
    except MessageDecodeError as exc:
        assert field in str(exc) or "trade" in str(exc)
        return
    assert isinstance(message, SubmitTrade)
    assert SYMBOL.match(message.trade.symbol) and message.trade.quantity > 0


@EXAMPLES
@given(st.text(max_size=60))
def test_any_slash_command_text_is_a_prefill_or_a_reason(text: str) -> None:
    try:
        prefill = parse_trade_text(text)
    except BadTradeText as exc:
        assert str(exc)
        return
    if prefill.side is not None:
        assert prefill.side in ("buy", "sell") and Decimal(prefill.quantity or "0") > 0


@EXAMPLES
@given(
    st.sampled_from(["buy", "sell", "BUY"]),
    amounts,
    symbols,
    st.sampled_from(["", " limit 10.5", " stop 9", " stop_limit 9 10"]),
    st.sampled_from(["", " gtc", " IOC"]),
)
def test_a_well_formed_order_text_parses_to_its_fields(
    side: str, quantity: Decimal, symbol: str, order: str, tif: str
) -> None:
    prefill = parse_trade_text(f"{side} {quantity} {symbol.lower()}{order}{tif}")
    assert (prefill.side, Decimal(prefill.quantity or "0"), prefill.symbol) == (
        side.lower(),
        quantity,
        symbol,
    )
    assert prefill.order_type == (order.split()[0] if order else "market")
    assert prefill.time_in_force == (tif.strip().lower() or "day")


form_values = st.one_of(st.none(), st.text(max_size=12), amounts.map(str), symbols)


@EXAMPLES
@given(
    st.fixed_dictionaries(
        {
            "side": st.one_of(st.none(), st.sampled_from(["buy", "sell", "hold"])),
            "symbol": form_values,
            "quantity": form_values,
            "order_type": st.one_of(st.none(), st.sampled_from(["market", "limit", "stop", "stop_limit"])),
            "limit_price": form_values,
            "stop_price": form_values,
            "time_in_force": st.one_of(st.none(), st.sampled_from(["day", "gtc", "ioc", "fok"])),
        }
    )
)
def test_any_submitted_form_is_a_trade_or_errors_under_its_blocks(values: dict[str, str | None]) -> None:
    view = trade_modal(uuid.uuid4(), "C1", Prefill())
    selects = {"side", "order_type", "time_in_force"}
    view["state"] = {
        "values": {
            block: {
                block: (
                    {"type": "static_select", "selected_option": {"value": value} if value else None}
                    if block in selects
                    else {"type": "plain_text_input", "value": value}
                )
            }
            for block, value in values.items()
        }
    }
    outcome = read_submission(view, user_id="U123")
    if isinstance(outcome, dict):
        assert outcome and set(outcome) <= set(values) and all(outcome.values())
        return
    trade = outcome.trade
    assert SYMBOL.match(trade.symbol) and trade.quantity > 0 and trade.side in ("buy", "sell")
    assert (trade.limit_price is not None) == (trade.order_type in ("limit", "stop_limit"))
    assert (trade.stop_price is not None) == (trade.order_type in ("stop", "stop_limit"))


# Numbers as anyone may type them: any finite decimal, tiny or huge, with any number of digits.
typed_numbers = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.builds(
        lambda digits, exponent: f"{digits}E{exponent:+d}",
        st.integers(min_value=1, max_value=10**40),
        st.integers(min_value=-999_999, max_value=999_999),
    ),
    st.from_regex(r"^[0-9]{1,60}(\.[0-9]{1,60})?$", fullmatch=True),
)


def storable_in_dynamodb(value: Decimal) -> bool:
    """DynamoDB numbers: at most 38 significant digits, magnitude 1E-130 to below 1E+126."""
    return len(value.normalize().as_tuple().digits) <= 38 and -130 <= value.adjusted() <= 125


def assert_bounded(trade: TradeRequest) -> None:
    amounts = [trade.quantity, *(p for p in (trade.limit_price, trade.stop_price) if p is not None)]
    for amount in amounts:
        assert amount_problem(amount) is None and storable_in_dynamodb(amount)
        notional = trade.quantity * amount  # the validation stage's arithmetic: never an Overflow
        assert notional.is_finite() and storable_in_dynamodb(notional)


@EXAMPLES
@given(typed_numbers, typed_numbers, st.sampled_from(["market", "limit", "stop", "stop_limit"]))
def test_any_typed_number_in_the_form_is_a_bounded_trade_or_an_inline_error(
    quantity: str, price: str, order_type: str
) -> None:
    view = trade_modal(uuid.uuid4(), "C1", Prefill())
    values = {
        "side": "buy",
        "symbol": "AAPL",
        "quantity": quantity,
        "order_type": order_type,
        "limit_price": price if order_type in ("limit", "stop_limit") else None,
        "stop_price": price if order_type in ("stop", "stop_limit") else None,
        "time_in_force": "day",
    }
    selects = {"side", "order_type", "time_in_force"}
    view["state"] = {
        "values": {
            block: {
                block: (
                    {"type": "static_select", "selected_option": {"value": value}}
                    if block in selects
                    else {"type": "plain_text_input", "value": value}
                )
            }
            for block, value in values.items()
        }
    }
    outcome = read_submission(view, user_id="U123")
    if isinstance(outcome, dict):
        assert set(outcome) <= {"quantity", "limit_price", "stop_price"} and all(outcome.values())
        return
    assert_bounded(outcome.trade)


@EXAMPLES
@given(typed_numbers, typed_numbers)
def test_any_typed_number_in_the_slash_command_prefills_a_bounded_form_or_is_refused(
    quantity: str, price: str
) -> None:
    try:
        prefill = parse_trade_text(f"buy {quantity} AAPL limit {price}")
    except BadTradeText:
        return
    assert amount_problem(Decimal(prefill.quantity or "0")) is None
    assert amount_problem(Decimal(prefill.limit_price or "0")) is None


@EXAMPLES
@given(typed_numbers, typed_numbers)
def test_the_wire_never_carries_a_number_beyond_the_bounds(quantity: str, price: str) -> None:
    payload = {
        "type": "SubmitTrade",
        "trade": {
            "trade_id": str(uuid.uuid4()),
            "user_id": "U123",
            "symbol": "AAPL",
            "side": "buy",
            "quantity": quantity,
            "order_type": "limit",
            "limit_price": price,
            "submitted_at": "2026-11-25T14:30:00Z",
        },
    }
    try:
        message = from_payload(payload)
    except MessageDecodeError:
        return
    assert isinstance(message, SubmitTrade)
    assert_bounded(message.trade)
