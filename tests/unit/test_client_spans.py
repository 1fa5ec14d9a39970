"""A DynamoDB client span names the tables its request touches, batches and transactions included."""

from __future__ import annotations

from telemetry.client_spans import table_names


def test_a_single_item_request_names_its_table() -> None:
    assert table_names({"TableName": "p-trades", "Key": {}}) == ["p-trades"]


def test_a_batch_names_every_table_it_reads() -> None:
    request = {"RequestItems": {"p-trades": {"Keys": []}, "p-audit": {"Keys": []}}}
    assert table_names(request) == ["p-audit", "p-trades"]


def test_a_transaction_names_each_table_once() -> None:
    items = [
        {"Put": {"TableName": "p-trades", "Item": {}}},
        {"Put": {"TableName": "p-audit", "Item": {}}},
        {"ConditionCheck": {"TableName": "p-audit", "Key": {}}},
    ]
    assert table_names({"TransactItems": items}) == ["p-audit", "p-trades"]


def test_a_request_without_tables_names_none() -> None:
    assert table_names({}) == [] and table_names(None) == []
