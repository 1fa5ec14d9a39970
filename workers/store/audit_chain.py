"""Each trade's audit hash chain: the canonical encoding of an item, the links a write adds, and the head.

Every audit item of a trade is one link of its chain, and carries three attributes besides its own:

- `chain_seq`: its place in the chain, 1, 2, 3 … in the order the links were written (not `event_key` order);
- `prev_hash`: the `chain_hash` of link `chain_seq - 1` (`GENESIS_HASH`, 64 zeros, for link 1);
- `chain_hash`: the SHA-256 (lowercase hex) of the item's canonical encoding.

The canonical encoding of an item is the UTF-8 JSON that msgspec writes, keys sorted at every level and no
whitespace, of the item's DynamoDB attribute values with their type tags (`{"S": …}`, `{"N": …}`, `{"M": …}`,
`{"L": …}`, `{"BOOL": …}`, `{"NULL": true}`), every attribute but `chain_hash` itself. Every number (`N`,
and each member of an `NS`) is rewritten in one form: plain decimal, no exponent, no trailing zeros, "0" for
zero, so DynamoDB's own rewriting ("1.50" is read back as "1.5") does not change it; the members of a set are
sorted. The encoding therefore covers every attribute a link holds, `prev_hash`, `chain_seq`, `expires_at`
and the details included, and tells the string "1" from the number 1.

The chain head is one more item in the trade's audit partition (`event_key` = `CHAIN_HEAD_KEY`) holding the
last link's `chain_seq` and `chain_hash`. A write puts its links and replaces the head in one transaction,
conditioned on the head it linked after: of two writers that read the same head, one fails that condition,
so the chain never forks; the loser reads the head again and links after the winner.
"""

from __future__ import annotations

import decimal
import hashlib
from collections.abc import Sequence
from typing import Any

import msgspec

CHAIN_HEAD_KEY = "000#chain_head"
GENESIS_HASH = "0" * 64
SEQ_ATTRIBUTE = "chain_seq"
PREV_ATTRIBUTE = "prev_hash"
HASH_ATTRIBUTE = "chain_hash"
# DynamoDB keeps 38 significant digits; normalizing in a wider context never rounds one away.
_NUMBERS = decimal.Context(prec=60)

Item = dict[str, Any]


class ChainHead(msgspec.Struct, frozen=True):
    """The last link of a chain: its place and its hash (`GENESIS`, place 0, before the first link)."""

    seq: int
    hash: str


GENESIS = ChainHead(0, GENESIS_HASH)


class AuditChain(msgspec.Struct, frozen=True, kw_only=True):
    """A trade's audit items exactly as stored (DynamoDB attribute values), for verification."""

    items: list[Item]  # every audit item of the trade but the head, in event_key order
    head: Item | None


def canonical_number(text: str) -> str:
    """A DynamoDB number in the one form the encoding uses ("1.50", "15E-1" and "1.5" are all "1.5")."""
    number = decimal.Decimal(text)
    if number.is_zero():
        return "0"
    return format(_NUMBERS.normalize(number), "f")


def canonical_encoding(item: Item) -> bytes:
    """The bytes a link's hash is taken over (see the module docstring)."""
    values = {name: _canonical(value) for name, value in item.items() if name != HASH_ATTRIBUTE}
    return msgspec.json.encode(values, order="sorted")


def link_hash(item: Item) -> str:
    """The SHA-256 of an item's canonical encoding, as lowercase hex."""
    return hashlib.sha256(canonical_encoding(item)).hexdigest()


def link(items: Sequence[Item], after: ChainHead) -> tuple[list[Item], ChainHead]:
    """The items as the links that follow `after`, in the order given, and the chain's new head."""
    linked: list[Item] = []
    head = after
    for item in items:
        chained = {
            **item,
            SEQ_ATTRIBUTE: {"N": str(head.seq + 1)},
            PREV_ATTRIBUTE: {"S": head.hash},
        }
        chained[HASH_ATTRIBUTE] = {"S": link_hash(chained)}
        linked.append(chained)
        head = ChainHead(head.seq + 1, chained[HASH_ATTRIBUTE]["S"])
    return linked, head


def head_item(trade_id: str, head: ChainHead, expires_at: int) -> Item:
    """The head item of a trade's chain; it expires with the last link."""
    return {
        "trade_id": {"S": trade_id},
        "event_key": {"S": CHAIN_HEAD_KEY},
        SEQ_ATTRIBUTE: {"N": str(head.seq)},
        HASH_ATTRIBUTE: {"S": head.hash},
        "expires_at": {"N": str(expires_at)},
    }


def head_of(item: Item | None) -> ChainHead | None:
    """The head a stored head item records, or None when the trade has no chain yet."""
    if item is None:
        return None
    return ChainHead(int(item[SEQ_ATTRIBUTE]["N"]), str(item[HASH_ATTRIBUTE]["S"]))


def head_condition(previous: ChainHead | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(condition, names, values) for replacing the head: it is still the one the links were made after."""
    if previous is None:
        return "attribute_not_exists(#seq)", {"#seq": SEQ_ATTRIBUTE}, {}
    return (
        "#seq = :seq AND #hash = :hash",
        {"#seq": SEQ_ATTRIBUTE, "#hash": HASH_ATTRIBUTE},
        {":seq": {"N": str(previous.seq)}, ":hash": {"S": previous.hash}},
    )


def _canonical(value: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"not a DynamoDB attribute value: {value!r}")
    ((tag, inner),) = value.items()
    if tag == "N":
        return {"N": canonical_number(inner)}
    if tag == "NS":
        return {"NS": sorted(canonical_number(number) for number in inner)}
    if tag in ("SS", "BS"):
        return {tag: sorted(inner)}
    if tag == "M":
        return {"M": {name: _canonical(element) for name, element in inner.items()}}
    if tag == "L":
        return {"L": [_canonical(element) for element in inner]}
    return {tag: inner}  # S, BOOL, NULL, B (bytes: msgspec writes base64)
