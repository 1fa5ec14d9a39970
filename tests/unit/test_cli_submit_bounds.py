"""`tradeflow submit` refuses a number beyond the wire bounds, naming the field, before publishing."""

from __future__ import annotations

import pytest

from workers.console.trades.submit import InvalidTrade, build_command


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"quantity": "1E-200"}, "quantity"),
        ({"quantity": "10000000000000"}, "quantity"),
        ({"quantity": "1", "order_type": "limit", "limit_price": "9E+999999"}, "limit_price"),
        ({"quantity": "1", "order_type": "stop", "stop_price": "0.0000000001"}, "stop_price"),
    ],
)
def test_a_poison_number_is_refused_naming_its_field(fields: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidTrade, match=f"invalid {named}"):
        build_command(user_id="U123", side="buy", symbol="AAPL", **fields)


def test_a_number_in_bounds_builds_the_command() -> None:
    command = build_command(user_id="U123", side="buy", symbol="AAPL", quantity="0.5")
    assert str(command.trade.quantity) == "0.5"
