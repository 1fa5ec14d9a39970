"""`tradeflow audit verify`: recompute each trade's audit hash chain and name the first event that breaks it.

Links are followed in chain order (`chain_seq`), not `event_key` order (store/audit_chain.py). At each link:
1. its `chain_hash` is the SHA-256 of its canonical encoding; else the item was changed after it was written;
2. its `chain_seq` follows its predecessor's; else a link before it is missing, or two claim one place;
3. its `prev_hash` is its predecessor's `chain_hash`; else the chain was cut and joined again there.
Then the head must record the last link; else links after it are gone. The first failure names the break.

A trade whose oldest links TTL has already removed starts at its first remaining link, accepted only when
that link is itself within `EXPIRY_GRACE` of its own `expires_at`: a trade's events are written within days,
so they expire within days of each other, and a prefix deleted earlier than that is a break.

`--all` reads the trades submitted in the window through the trades-by-day index (one Query per UTC day,
a page at a time, never a Scan of the audit table), then each trade's audit partition with one Query.
"""

from __future__ import annotations

import asyncio
import decimal
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

from workers.store.audit_chain import (
    GENESIS_HASH,
    HASH_ATTRIBUTE,
    PREV_ATTRIBUTE,
    SEQ_ATTRIBUTE,
    AuditChain,
    head_of,
    link_hash,
)
from workers.store.port import TradeStore

EXPIRY_GRACE = timedelta(days=400)
CONCURRENCY = 16  # trades verified at once
Status = Literal["ok", "broken", "unchained", "missing"]
_Item = dict[str, Any]


class ChainBreak(msgspec.Struct, frozen=True, kw_only=True):
    """Where a trade's chain first fails: the event (None when the trade has no event at all) and why."""

    trade_id: str
    event_key: str | None
    event_type: str | None
    chain_seq: int | None
    reason: str


class ChainVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """One trade's chain: ok, broken (with where), unchained (written before chains), or missing."""

    trade_id: str
    status: Status
    links: int
    broken: ChainBreak | None = None


class _Broken(Exception):
    def __init__(self, item: _Item | None, reason: str) -> None:
        super().__init__(reason)
        self.item, self.reason = item, reason


def verify_chain(trade_id: uuid.UUID, chain: AuditChain, *, now: datetime | None = None) -> ChainVerdict:
    """Check one trade's chain as stored; see the module docstring for what is checked, in which order."""
    moment = now or datetime.now(UTC)
    if chain.head is None and not any(_is_linked(item) for item in chain.items):
        return ChainVerdict(trade_id=str(trade_id), status="unchained" if chain.items else "missing", links=0)
    try:
        links = _follow(chain, moment)
    except _Broken as broken:
        item = broken.item or {}
        return ChainVerdict(
            trade_id=str(trade_id),
            status="broken",
            links=len(chain.items),
            broken=ChainBreak(
                trade_id=str(trade_id),
                event_key=_text(item, "event_key"),
                event_type=_text(item, "event_type"),
                chain_seq=_seq_or_none(item),
                reason=broken.reason,
            ),
        )
    return ChainVerdict(trade_id=str(trade_id), status="ok", links=links)


async def verify_trade(store: TradeStore, trade_id: uuid.UUID, *, known: bool = False) -> ChainVerdict:
    """One trade's verdict; a trade (`known`, or found in the store) without any audit item is broken."""
    verdict = verify_chain(trade_id, await store.read_audit_chain(trade_id))
    if verdict.status == "missing" and (known or await store.get_trade(trade_id) is not None):
        reason = "the trade has no audit events: every one of them was deleted"
        broken = ChainBreak(
            trade_id=str(trade_id), event_key=None, event_type=None, chain_seq=None, reason=reason
        )
        return ChainVerdict(trade_id=str(trade_id), status="broken", links=0, broken=broken)
    return verdict


async def verify_all(store: TradeStore, since: datetime, until: datetime | None = None) -> dict[str, Any]:
    """Verify every trade submitted in [since, until): counts, every break, the trades without a chain."""
    end = until or datetime.now(UTC)
    counts = {"trades": 0, "links": 0}
    breaks: list[ChainBreak] = []
    unchained: list[str] = []
    gate = asyncio.Semaphore(CONCURRENCY)

    async def check(trade_id: uuid.UUID) -> None:
        async with gate:
            verdict = await verify_trade(store, trade_id, known=True)
        counts["trades"] += 1
        counts["links"] += verdict.links
        if verdict.broken is not None:
            breaks.append(verdict.broken)
        elif verdict.status == "unchained":
            unchained.append(verdict.trade_id)

    batch: list[uuid.UUID] = []
    async for record in store.iter_trades(since, end):
        batch.append(record.trade_id)
        if len(batch) >= 4 * CONCURRENCY:  # hold a few pages' ids, never the whole window
            await asyncio.gather(*map(check, batch))
            batch.clear()
    await asyncio.gather(*map(check, batch))
    return {
        "ok": not breaks,
        "since": since.isoformat(),
        "until": end.isoformat(),
        **counts,
        "broken": [msgspec.to_builtins(b) for b in sorted(breaks, key=lambda b: b.trade_id)],
        "unchained": sorted(unchained),
    }


def trade_document(verdict: ChainVerdict) -> dict[str, Any]:
    """One trade's verdict as `--json` prints it."""
    return {"ok": verdict.status in ("ok", "unchained"), **msgspec.to_builtins(verdict)}


def render_trade(doc: dict[str, Any]) -> str:
    if doc["status"] == "ok":
        return f"Trade {doc['trade_id']}: audit chain intact ({doc['links']} events)"
    if doc["status"] == "unchained":
        return f"Trade {doc['trade_id']}: its audit events were written before the chain; nothing to verify"
    if doc["status"] == "missing":
        return f"Trade {doc['trade_id']}: no such trade and no audit events"
    return f"Trade {doc['trade_id']}: audit chain BROKEN {_where(doc['broken'])}"


def render_all(doc: dict[str, Any]) -> str:
    lines = [f"Verified {doc['trades']} trades ({doc['links']} audit events) submitted since {doc['since']}"]
    if doc["ok"]:
        lines.append("Every audit chain is intact.")
    else:
        lines.append(f"{len(doc['broken'])} audit chain(s) BROKEN:")
        lines += [f"  trade {b['trade_id']} {_where(b)}" for b in doc["broken"]]
    if doc["unchained"]:
        lines.append(f"{len(doc['unchained'])} trade(s) written before the chain, not verified.")
    return "\n".join(lines)


def _where(broken: dict[str, Any]) -> str:
    if broken["event_key"] is None:
        return f"- {broken['reason']}"
    link = "" if broken["chain_seq"] is None else f", link {broken['chain_seq']}"
    return f"at event {broken['event_key']} ({broken['event_type']}{link}): {broken['reason']}"


def _follow(chain: AuditChain, now: datetime) -> int:
    """The number of links, each checked in chain order; raises _Broken at the first that fails."""
    for item in chain.items:
        if not _is_linked(item):
            raise _Broken(item, "it is not on the chain (it has no chain_seq, prev_hash or chain_hash)")
    links = sorted(chain.items, key=lambda item: (_seq(item), item["event_key"]["S"]))
    expected_seq, expected_prev = 1, GENESIS_HASH
    first = links[0] if links else None
    if first is not None and _seq(first) > 1 and _expired_prefix(first, now):
        expected_seq, expected_prev = _seq(first), first[PREV_ATTRIBUTE]["S"]
    previous: _Item | None = None
    for item in links:
        _check_link(item, previous, expected_seq, expected_prev)
        expected_seq, expected_prev, previous = expected_seq + 1, item[HASH_ATTRIBUTE]["S"], item
    _check_head(chain.head, previous, expected_seq - 1, expected_prev)
    return len(links)


def _check_link(item: _Item, previous: _Item | None, expected_seq: int, expected_prev: str) -> None:
    try:
        intact = link_hash(item) == item[HASH_ATTRIBUTE]["S"]
    except (KeyError, ValueError, TypeError, decimal.InvalidOperation):
        intact = False
    if not intact:
        raise _Broken(item, "its content does not match its chain_hash: it was changed after it was written")
    seq = _seq(item)
    if seq < expected_seq:
        raise _Broken(item, f"link {seq} is claimed by another event too")
    if seq > expected_seq:
        missing = str(expected_seq) if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
        raise _Broken(item, f"link {missing} before it is missing")
    if item[PREV_ATTRIBUTE]["S"] != expected_prev:
        before = "the start of the chain" if previous is None else f"event {previous['event_key']['S']}"
        raise _Broken(item, f"its prev_hash is not the chain_hash of {before}")


def _check_head(head_item: _Item | None, last: _Item | None, last_seq: int, last_hash: str) -> None:
    try:
        head = head_of(head_item)
    except (KeyError, ValueError, TypeError):
        raise _Broken(last, "the chain head is unreadable") from None
    if head is None:
        raise _Broken(last, "the chain head is missing")
    if head.seq > last_seq:
        raise _Broken(last, f"the chain head records {head.seq} links: those after this event are missing")
    if (head.seq, head.hash) != (last_seq, last_hash):
        raise _Broken(last, f"the chain head records link {head.seq} with another hash, not this last link")


def _expired_prefix(first: _Item, now: datetime) -> bool:
    try:
        expires_at = int(first["expires_at"]["N"])
    except (KeyError, ValueError):
        return False
    return now.timestamp() >= expires_at - EXPIRY_GRACE.total_seconds()


def _is_linked(item: _Item) -> bool:
    return all(name in item for name in (SEQ_ATTRIBUTE, PREV_ATTRIBUTE, HASH_ATTRIBUTE))


def _seq(item: _Item) -> int:
    seq = _seq_or_none(item)
    if seq is None:
        raise _Broken(item, "its chain_seq is not a whole number")
    return seq


def _seq_or_none(item: _Item) -> int | None:
    try:
        return int(item[SEQ_ATTRIBUTE]["N"])
    except (KeyError, ValueError, TypeError):
        return None


def _text(item: _Item, name: str) -> str | None:
    value = item.get(name, {})
    return value.get("S") if isinstance(value, dict) else None
