"""The DynamoDB table definitions: names from the prefix, keys, billing and TTL, without a socket."""

from __future__ import annotations

from typing import Any

import pytest

from workers.store.tables import KILL_SWITCH_KEY, TTL_ATTRIBUTE, TableNames, table_definitions


def keys_of(request: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(name, key type, attribute type) per key; every defined attribute must be a key."""
    types = {a["AttributeName"]: a["AttributeType"] for a in request["AttributeDefinitions"]}
    assert set(types) == {k["AttributeName"] for k in request["KeySchema"]}
    return [(k["AttributeName"], k["KeyType"], types[k["AttributeName"]]) for k in request["KeySchema"]]


def test_table_names_come_from_the_prefix() -> None:
    names = TableNames.from_prefix("tradeflow")
    assert (names.trades, names.positions, names.audit, names.control) == (
        "tradeflow-trades",
        "tradeflow-positions",
        "tradeflow-audit",
        "tradeflow-control",
    )


@pytest.mark.parametrize("prefix", ["", "has space", "slash/y", "x" * 201])
def test_a_prefix_dynamodb_would_refuse_is_refused_early(prefix: str) -> None:
    with pytest.raises(ValueError, match="table prefix"):
        TableNames.from_prefix(prefix)


def test_each_table_has_its_keys_and_pays_per_request() -> None:
    definitions = {d.name: d.create_request for d in table_definitions(TableNames.from_prefix("p"))}
    assert {name: keys_of(request) for name, request in definitions.items()} == {
        "p-trades": [("trade_id", "HASH", "S")],
        "p-positions": [("user_id", "HASH", "S"), ("symbol", "RANGE", "S")],
        "p-audit": [("trade_id", "HASH", "S"), ("event_key", "RANGE", "S")],
        "p-control": [("key", "HASH", "S")],
    }
    for name, request in definitions.items():
        assert request["TableName"] == name
        assert request["BillingMode"] == "PAY_PER_REQUEST"
        assert "ProvisionedThroughput" not in request


def test_trades_and_audit_expire_on_expires_at() -> None:
    ttl = {d.name: d.ttl_attribute for d in table_definitions(TableNames.from_prefix("p"))}
    assert TTL_ATTRIBUTE == "expires_at"
    assert ttl == {"p-trades": "expires_at", "p-positions": None, "p-audit": "expires_at", "p-control": None}


def test_the_kill_switch_lives_under_a_fixed_key() -> None:
    assert KILL_SWITCH_KEY == "kill_switch"
