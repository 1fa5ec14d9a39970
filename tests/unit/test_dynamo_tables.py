"""The DynamoDB table definitions: names from the prefix, keys, billing and TTL, without a socket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from messages.records import TradeRecord, pending_record
from tests.unit.fakes import NOW, trade
from workers.store.dynamodb.items import day_sort_bounds, trade_attributes, trade_from_attributes
from workers.store.dynamodb.tables import (
    KILL_SWITCH_KEY,
    OPEN_TRADES,
    TRADES_BY_DAY,
    TTL_ATTRIBUTE,
    USER_TRADES,
    TableNames,
    table_definitions,
)


def keys_of(request: dict[str, Any], key_schema: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    """(name, key type, attribute type) per key of the table or of one of its indexes."""
    types = {a["AttributeName"]: a["AttributeType"] for a in request["AttributeDefinitions"]}
    return [(k["AttributeName"], k["KeyType"], types[k["AttributeName"]]) for k in key_schema]


def indexes_of(request: dict[str, Any]) -> dict[str, list[tuple[str, str, str]]]:
    return {
        index["IndexName"]: keys_of(request, index["KeySchema"])
        for index in request.get("GlobalSecondaryIndexes", [])
    }


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
    assert {name: keys_of(request, request["KeySchema"]) for name, request in definitions.items()} == {
        "p-trades": [("trade_id", "HASH", "S")],
        "p-positions": [("user_id", "HASH", "S"), ("symbol", "RANGE", "S")],
        "p-audit": [("trade_id", "HASH", "S"), ("event_key", "RANGE", "S")],
        "p-control": [("key", "HASH", "S")],
    }
    for name, request in definitions.items():
        assert request["TableName"] == name
        assert request["BillingMode"] == "PAY_PER_REQUEST"
        assert "ProvisionedThroughput" not in request
        # DynamoDB refuses an attribute definition that no table or index key uses.
        key_names = {k["AttributeName"] for k in request["KeySchema"]}
        for index in request.get("GlobalSecondaryIndexes", []):
            key_names |= {k["AttributeName"] for k in index["KeySchema"]}
        assert {a["AttributeName"] for a in request["AttributeDefinitions"]} == key_names


def test_only_trades_have_indexes_open_trades_user_trades_and_by_day_projecting_whole_items() -> None:
    definitions = {d.name: d for d in table_definitions(TableNames.from_prefix("p"))}
    assert {name: indexes_of(d.create_request) for name, d in definitions.items()} == {
        "p-trades": {
            "open-trades": [("open_status", "HASH", "S"), ("open_sort_key", "RANGE", "S")],
            "user-trades": [("user_id", "HASH", "S"), ("user_sort_key", "RANGE", "S")],
            "trades-by-day": [("trade_day", "HASH", "S"), ("day_sort_key", "RANGE", "S")],
        },
        "p-positions": {},
        "p-audit": {},
        "p-control": {},
    }
    trades = definitions["p-trades"]
    for index in trades.create_request["GlobalSecondaryIndexes"]:
        assert index["Projection"] == {"ProjectionType": "ALL"}
        assert "ProvisionedThroughput" not in index  # on-demand: the index pays per request too
    assert trades.indexes == (OPEN_TRADES, USER_TRADES, TRADES_BY_DAY)
    assert {name: d.indexes for name, d in definitions.items() if name != "p-trades"} == {
        "p-positions": (),
        "p-audit": (),
        "p-control": (),
    }


@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_missing_index_is_added_with_update_table_create(position: int) -> None:
    trades = table_definitions(TableNames.from_prefix("p"))[0]
    index = trades.indexes[position]
    request = trades.add_index_request(index)
    assert request["TableName"] == "p-trades"
    assert request["GlobalSecondaryIndexUpdates"] == [
        {"Create": trades.create_request["GlobalSecondaryIndexes"][position]}
    ]
    # Only the table's and this index's keys: DynamoDB refuses definitions that no key uses yet.
    assert request["AttributeDefinitions"] == [
        {"AttributeName": name, "AttributeType": "S"}
        for name in ("trade_id", index.hash_key, index.range_key)
    ]


def test_trades_audit_and_control_items_expire_on_expires_at_positions_never() -> None:
    ttl = {d.name: d.ttl_attribute for d in table_definitions(TableNames.from_prefix("p"))}
    assert TTL_ATTRIBUTE == "expires_at"
    assert ttl == {
        "p-trades": "expires_at",
        "p-positions": None,
        "p-audit": "expires_at",
        "p-control": "expires_at",
    }


def test_the_kill_switch_lives_under_a_fixed_key() -> None:
    assert KILL_SWITCH_KEY == "kill_switch"


def record_at(submitted_at: datetime, status: str = "working") -> TradeRecord:
    pending = pending_record(trade(submitted_at=submitted_at), recorded_at=NOW, expires_at=2_000_000_000)
    return msgspec.structs.replace(pending, status=status)


@pytest.mark.parametrize("status", ["pending", "working", "unknown"])
def test_an_open_trade_item_carries_the_index_keys_and_reads_back_without_them(status: str) -> None:
    record = record_at(NOW, status)
    item = trade_attributes(record)
    assert item["open_status"] == {"S": status}
    assert item["open_sort_key"] == {"S": f"2026-11-25T14:30:00.000000Z#{record.trade_id}"}
    assert item["user_sort_key"] == item["open_sort_key"]
    assert item["trade_day"] == {"S": "2026-11-25"}
    assert item["day_sort_key"] == item["open_sort_key"]
    assert trade_from_attributes(item) == record


@pytest.mark.parametrize("status", ["executed", "failed", "rejected"])
def test_a_terminal_trade_item_leaves_the_sparse_index_and_stays_in_the_others(status: str) -> None:
    record = record_at(NOW, status)
    item = trade_attributes(record)
    assert "open_status" not in item and "open_sort_key" not in item
    assert item["user_id"] == {"S": "U123"}
    assert item["user_sort_key"] == {"S": f"2026-11-25T14:30:00.000000Z#{record.trade_id}"}
    assert (item["trade_day"], item["day_sort_key"]) == ({"S": "2026-11-25"}, item["user_sort_key"])
    assert trade_from_attributes(item) == record


def test_the_index_sort_key_follows_time_across_offsets_and_fractions() -> None:
    moments = [
        NOW - timedelta(days=1),
        NOW,
        NOW + timedelta(microseconds=1),
        NOW.astimezone(timezone(timedelta(hours=-5))) + timedelta(seconds=1),
        datetime(2026, 11, 25, 14, 30, 2),  # naive: read as UTC
        NOW.astimezone(timezone(timedelta(hours=9))) + timedelta(seconds=3),
    ]
    keys = [trade_attributes(record_at(moment))["open_sort_key"]["S"] for moment in moments]
    assert sorted(keys) == keys
    user_keys = [trade_attributes(record_at(moment, "executed"))["user_sort_key"]["S"] for moment in moments]
    assert sorted(user_keys) == user_keys
    assert keys[4].startswith(f"{datetime(2026, 11, 25, 14, 30, 2, tzinfo=UTC):%Y-%m-%dT%H:%M:%S}.000000Z#")


def test_the_trade_day_is_the_utc_date_of_the_submission() -> None:
    late_in_new_york = datetime(2026, 11, 25, 21, 30, tzinfo=timezone(timedelta(hours=-5)))
    early_in_tokyo = datetime(2026, 11, 26, 8, 0, tzinfo=timezone(timedelta(hours=9)))
    days = [
        trade_attributes(record_at(moment))["trade_day"]["S"] for moment in (late_in_new_york, early_in_tokyo)
    ]
    assert days == ["2026-11-26", "2026-11-25"]
    assert trade_attributes(record_at(datetime(2026, 11, 25, 23, 59, 59)))["trade_day"] == {"S": "2026-11-25"}


def test_a_window_touches_each_utc_day_once_and_not_the_day_it_ends_at_midnight() -> None:
    midnight = datetime(2026, 11, 26, tzinfo=UTC)
    days, lower, upper = day_sort_bounds(midnight - timedelta(days=1, hours=1), midnight + timedelta(days=1))
    assert days == ["2026-11-24", "2026-11-25", "2026-11-26"]
    assert (lower, upper) == ("2026-11-24T23:00:00.000000Z", "2026-11-27T00:00:00.000000Z")
    record = record_at(midnight + timedelta(days=1))  # exactly `until`: sorts after the upper bound
    assert trade_attributes(record)["day_sort_key"]["S"] > upper
    assert day_sort_bounds(midnight, midnight)[0] == []
