"""The wire contract: constraints in the types, Decimal money, tolerant of new fields, strict on bad ones."""

from __future__ import annotations

import uuid
from decimal import Decimal

import msgspec
import pytest

from messages import MessageDecodeError, SubmitTrade, TradeExecuted, decode, encode, from_payload, to_payload
from tests.unit.fakes import submit


def _raw(**trade_overrides: object) -> dict[str, object]:
    trade: dict[str, object] = {
        "trade_id": str(uuid.uuid4()),
        "user_id": "U123",
        "symbol": "AAPL",
        "side": "buy",
        "quantity": "10",
        "submitted_at": "2026-11-25T14:30:00Z",
    }
    trade.update(trade_overrides)
    return {"type": "SubmitTrade", "trade": trade}


def test_round_trip_keeps_decimal_exact() -> None:
    command = submit(quantity=Decimal("0.1"), order_type="limit", limit_price=Decimal("150.0523"))
    back = decode(encode(command))
    assert back == command
    assert isinstance(back, SubmitTrade)
    assert back.trade.limit_price == Decimal("150.0523")
    assert b'"150.0523"' in encode(command)  # money travels as a string, never a float


def test_payload_round_trip() -> None:
    command = submit()
    assert from_payload(to_payload(command)) == command


def test_unknown_fields_are_tolerated() -> None:
    raw = _raw(new_field_from_a_later_version="x")
    raw["also_new"] = 1
    assert isinstance(from_payload(raw), SubmitTrade)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-5"}, "quantity"),
        ({"quantity": "NaN"}, "quantity"),
        ({"side": "hold"}, "side"),
        ({"symbol": "aa$"}, "symbol"),
        ({"order_type": "iceberg"}, "order_type"),
        ({"time_in_force": "forever"}, "time_in_force"),
        ({"trade_id": "not-a-uuid"}, "trade_id"),
        ({"order_type": "limit"}, "limit_price"),
        ({"order_type": "stop"}, "stop_price"),
        ({"order_type": "stop_limit", "limit_price": "10"}, "stop_price"),
        ({"limit_price": "10"}, "limit_price"),
    ],
)
def test_a_bad_field_is_refused_with_its_name(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(MessageDecodeError, match=field):
        from_payload(_raw(**overrides))


def test_an_unknown_message_type_is_refused() -> None:
    with pytest.raises(MessageDecodeError):
        from_payload({"type": "DeleteEverything", "trade": {}})


def test_garbage_is_refused() -> None:
    with pytest.raises(MessageDecodeError):
        decode(b"\x00not json")
    with pytest.raises(MessageDecodeError):
        from_payload("garbage")


def test_messages_are_frozen() -> None:
    command = submit()
    with pytest.raises(AttributeError):
        command.trade = command.trade  # type: ignore[misc]


def test_the_union_is_tagged_by_class_name() -> None:
    assert to_payload(submit())["type"] == "SubmitTrade"
    assert msgspec.inspect.type_info(TradeExecuted).tag == "TradeExecuted"  # type: ignore[attr-defined]


POISON_NUMBERS = [
    ({"quantity": "1E-200"}, "quantity"),  # DynamoDB refuses it
    ({"quantity": "0.0000000001"}, "quantity"),  # 10 decimal places
    ({"quantity": "1E+12"}, "quantity"),
    ({"quantity": "9" * 400}, "quantity"),
    ({"order_type": "limit", "limit_price": "9E+999999"}, "limit_price"),  # overflows quantity × price
    ({"order_type": "stop", "stop_price": "1E-130"}, "stop_price"),
    ({"order_type": "stop_limit", "stop_price": "10", "limit_price": "1.0000000000000000001"}, "limit_price"),
]


@pytest.mark.parametrize(("overrides", "field"), POISON_NUMBERS)
def test_a_number_beyond_the_bounds_is_refused_with_its_name(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(MessageDecodeError, match=field):
        from_payload(_raw(**overrides))


@pytest.mark.parametrize(
    "quantity", ["999999999999.999999999", "0.000000001", "1.500000000000", "1E+3", "100.00"]
)
def test_numbers_inside_the_bounds_pass_unchanged(quantity: str) -> None:
    message = from_payload(_raw(quantity=quantity))
    assert isinstance(message, SubmitTrade) and message.trade.quantity == Decimal(quantity)


def test_the_largest_trade_in_bounds_computes_its_notional_exactly_enough() -> None:
    big = from_payload(
        _raw(quantity="999999999999.999999999", order_type="limit", limit_price="999999999999")
    )
    assert isinstance(big, SubmitTrade)
    assert big.trade.limit_price is not None
    notional = big.trade.quantity * big.trade.limit_price  # no Overflow, and within DynamoDB's 38 digits
    assert notional.is_finite() and len(notional.as_tuple().digits) <= 38
