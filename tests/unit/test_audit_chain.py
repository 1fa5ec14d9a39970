"""The audit hash chain: its canonical encoding, linking, and verification naming the first broken event."""

from __future__ import annotations

import copy
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from workers.console.audit.verify import EXPIRY_GRACE, verify_chain
from workers.store.audit_chain import (
    GENESIS,
    GENESIS_HASH,
    AuditChain,
    ChainHead,
    canonical_encoding,
    canonical_number,
    head_item,
    link,
    link_hash,
)

TRADE_ID = uuid.UUID("6b1f0f3e-5b7e-4c59-9a55-0d0c3a1b2c3d")
NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
EXPIRES_AT = int((NOW + timedelta(days=2557)).timestamp())


def item(event_key: str, **details: Any) -> dict[str, Any]:
    return {
        "trade_id": {"S": str(TRADE_ID)},
        "event_key": {"S": event_key},
        "event_type": {"S": event_key.split("#")[-1]},
        "user_id": {"S": "U123"},
        "details": {"M": {name: {"S": str(value)} for name, value in details.items()}},
        "expires_at": {"N": str(EXPIRES_AT)},
    }


def chain_of(*event_keys: str) -> AuditChain:
    linked, head = link([item(key) for key in event_keys], GENESIS)
    return AuditChain(items=linked, head=head_item(str(TRADE_ID), head, EXPIRES_AT))


def the_break(chain: AuditChain, now: datetime = NOW) -> tuple[str | None, str]:
    verdict = verify_chain(TRADE_ID, chain, now=now)
    assert verdict.status == "broken" and verdict.broken is not None, verdict
    return verdict.broken.event_key, verdict.broken.reason


KEYS = ("010#trade_submitted", "020#trade_recorded", "030#trade_executed", "040#position_updated")


def test_the_encoding_is_sorted_compact_json_of_the_typed_values_without_the_own_hash() -> None:
    encoded = canonical_encoding(
        {
            "b": {"N": "1.50"},
            "a": {"M": {"y": {"S": "x"}, "x": {"L": [{"N": "2E+1"}]}}},
            "chain_hash": {"S": "h"},
        }
    )
    assert encoded == b'{"a":{"M":{"x":{"L":[{"N":"20"}]},"y":{"S":"x"}}},"b":{"N":"1.5"}}'
    assert link_hash({"b": {"N": "1.50"}}) == hashlib.sha256(b'{"b":{"N":"1.5"}}').hexdigest()


def test_numbers_have_one_form_and_a_string_is_not_a_number() -> None:
    assert {canonical_number(text) for text in ("1.50", "1.5", "15E-1", "001.5")} == {"1.5"}
    assert {canonical_number(text) for text in ("0", "-0", "0.000", "0E+3")} == {"0"}
    assert (
        canonical_number("12345678901234567890123456789012345678") == "12345678901234567890123456789012345678"
    )
    assert link_hash({"n": {"N": "1"}}) != link_hash({"n": {"S": "1"}})


def test_links_name_their_place_and_predecessor_and_the_head_the_last() -> None:
    linked, head = link([item("010#a"), item("020#b")], GENESIS)
    assert [(i["chain_seq"]["N"], i["prev_hash"]["S"]) for i in linked] == [
        ("1", GENESIS_HASH),
        ("2", linked[0]["chain_hash"]["S"]),
    ]
    assert all(i["chain_hash"]["S"] == link_hash(i) for i in linked)
    assert (head.seq, head.hash) == (2, linked[1]["chain_hash"]["S"])
    more, after = link([item("030#c")], head)
    assert (more[0]["chain_seq"]["N"], more[0]["prev_hash"]["S"], after.seq) == ("3", head.hash, 3)


def test_an_intact_chain_verifies_in_link_order_not_key_order() -> None:
    # Written out of key order (a notice before the execution): the chain follows the writes.
    chain = chain_of("010#trade_submitted", "028#working_notified", "025#order_working", "050#trade_notified")
    verdict = verify_chain(TRADE_ID, chain, now=NOW)
    assert (verdict.status, verdict.links, verdict.broken) == ("ok", 4, None)


def test_an_edited_event_is_named() -> None:
    chain = chain_of(*KEYS)
    chain.items[2]["details"]["M"]["execution_price"] = {"S": "1.00"}
    event_key, reason = the_break(chain)
    assert event_key == "030#trade_executed" and "changed after it was written" in reason


def test_an_edit_that_recomputes_its_own_hash_is_named_at_the_next_link() -> None:
    chain = chain_of(*KEYS)
    chain.items[1]["user_id"] = {"S": "U999"}
    chain.items[1]["chain_hash"] = {"S": link_hash(chain.items[1])}
    event_key, reason = the_break(chain)
    assert event_key == "030#trade_executed" and "prev_hash" in reason and "020#trade_recorded" in reason


def test_a_deleted_event_is_named_by_the_link_after_the_gap() -> None:
    chain = chain_of(*KEYS)
    del chain.items[1]
    assert the_break(chain) == ("030#trade_executed", "link 2 before it is missing")


def test_a_deleted_last_event_is_caught_by_the_head() -> None:
    chain = chain_of(*KEYS)
    del chain.items[3]
    event_key, reason = the_break(chain)
    assert event_key == "030#trade_executed" and "4 links" in reason


def test_a_missing_head_and_a_fork_are_breaks() -> None:
    chain = chain_of(*KEYS)
    assert the_break(AuditChain(items=chain.items, head=None))[1] == "the chain head is missing"

    forked = chain_of(*KEYS[:3])
    rival, _ = link([item("050#trade_notified")], ChainHead(2, "x" * 64))
    rival[0]["prev_hash"] = forked.items[1]["chain_hash"]
    rival[0]["chain_hash"] = {"S": link_hash(rival[0])}
    event_key, reason = the_break(AuditChain(items=[*forked.items, *rival], head=forked.head))
    assert event_key == "050#trade_notified" and "claimed by another event" in reason


def test_an_item_off_the_chain_is_a_break_but_a_trade_from_before_chains_is_unchained() -> None:
    chain = chain_of(*KEYS)
    event_key, reason = the_break(AuditChain(items=[*chain.items, item("060#inserted")], head=chain.head))
    assert event_key == "060#inserted" and "not on the chain" in reason

    legacy = verify_chain(TRADE_ID, AuditChain(items=[item(key) for key in KEYS], head=None), now=NOW)
    assert (legacy.status, legacy.broken) == ("unchained", None)
    assert verify_chain(TRADE_ID, AuditChain(items=[], head=None), now=NOW).status == "missing"


def test_a_prefix_removed_by_ttl_is_accepted_only_near_the_end_of_retention() -> None:
    chain = chain_of(*KEYS)
    trimmed = AuditChain(items=copy.deepcopy(chain.items[2:]), head=chain.head)
    assert the_break(trimmed) == ("030#trade_executed", "link 1-2 before it is missing")
    near_expiry = datetime.fromtimestamp(EXPIRES_AT, UTC) - EXPIRY_GRACE + timedelta(days=1)
    assert verify_chain(TRADE_ID, trimmed, now=near_expiry).status == "ok"
