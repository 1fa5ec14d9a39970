"""Alpaca's faults that found defects: an order accepted then answered 504 whose resends Alpaca refuses
(429 or 403), a worker killed while its order request hangs and started again with Alpaca off, and an
order request that outlives the adapter's time limit."""

from __future__ import annotations

import random
import threading
import time
import uuid
from typing import Any

from messages.records import TradeRecord
from tests.faults.kinds.context import ORDER_KINDS, Injection, KindOutcome, KindRun, Seen, begin, parse_time
from workers.bootstrap import reconcile_policy
from workers.handlers.audit import EVENT_KEYS
from workers.store.port import TradeStore

# A fault waits this long for orders to hit it. The kinds that stop the chain run meanwhile (stale_replay
# holds persistence down past the trade deadline, ~100 s; dynamodb_outage_long keeps the store down up to
# 75 s), and every trade submitted during them ends late, sending no order: one CI run on a loaded machine
# found 240 s too short for both and the recovery after them. A run that meets its orders never waits it out.
HIT_TIMEOUT_S = 420.0
REARM_AFTER_S = 3.0  # a spent slow fault whose order is not seen hanging by then is armed again
PROBE_EVERY_S = 8.0  # a kind's own trades while it waits for orders: few, never crowding Alpaca's limit
CRASH_ACCOUNT = "LA00CRASH01"  # a live account number: the paper guard fails at the next boot
ACCEPT_THEN_504 = "accept_then_504"  # the emulator's fault kind, as its request log names it


# -- alpaca_resend_504_429 / alpaca_resend_504_403 --------------------------------------------------------


def inject_resend(run: KindRun, resend_status: int, times: int, seed: int) -> None:
    """The next `times` orders are accepted and answered 504; Alpaca refuses every resend of them."""
    kind = f"alpaca_resend_504_{resend_status}"
    injection = begin(kind)
    fault = run.alpaca.accept_then_504(resend_status=resend_status, times=times)
    run.log.add(kind, f"accepted, answered 504; resends answered {resend_status}; ×{times}")
    before = len(run.alpaca.order_requests())
    try:
        _submit_while(run, random.Random(seed), lambda: _remaining(run, fault["id"]) == 0)
    finally:
        run.done_first(kind, "orders met")
    board = _fault(run, fault["id"]) or {}
    injection.trade_ids = [uuid.UUID(cid) for cid in board.get("accepted", [])]
    injection.facts = {"resends refused": board.get("resends", 0), "hits": board.get("hits", 0)}
    if board.get("remaining"):
        meanwhile = run.alpaca.order_requests()[before:]
        injection.problems.append(
            f"{board['remaining']} of {times} orders never came within {HIT_TIMEOUT_S}s "
            f"({len(meanwhile)} order request(s) meanwhile, answered "
            f"{sorted(str(r['status']) + ('/' + r['fault'] if r.get('fault') else '') for r in meanwhile)})"
        )
    run.record(injection)


def check_resend(seen: Seen, kind: str, injections: list[Injection]) -> KindOutcome:
    trade_ids = [t for i in injections for t in i.trade_ids]
    outcome = KindOutcome.of(kind, injections, len(trade_ids))
    for trade_id in trade_ids:
        orders, requests = seen.orders_of(trade_id), seen.requests_of(trade_id)
        record = seen.trades.get(trade_id)
        if len(orders) != 1:
            outcome.problems.append(f"{trade_id}: {len(orders)} orders at Alpaca")
        # Requests refused before the accepted one placed nothing (another fault's 429, or its 504 before
        # acceptance: resending those is right; the one order at Alpaca is this fault's). After this fault's
        # 504, whose order exists, nothing may be resent: the order is looked up instead.
        accepted = [
            i for i, r in enumerate(requests) if r.get("fault") == ACCEPT_THEN_504 and r["status"] == 504
        ]
        if len(accepted) != 1 or accepted[0] != len(requests) - 1:
            answered = [f"{r['status']}/{r.get('fault') or '-'}" for r in requests]
            outcome.problems.append(
                f"{trade_id}: order requests answered {answered} (this fault's 504 once, the last: nothing "
                "resent after it)"
            )
        if record is None:
            outcome.problems.append(f"{trade_id}: no record")
        elif record.status == "executed":
            if record.execution_method != "alpaca" or (orders and record.alpaca_order_id != orders[0]["id"]):
                outcome.problems.append(
                    f"{trade_id}: executed by {record.execution_method} as order {record.alpaca_order_id}, "
                    f"not Alpaca's order {orders[0]['id'] if orders else None}"
                )
        elif record.status not in ("working", "unknown"):
            outcome.problems.append(f"{trade_id}: {record.status} {record.error_code} beside its order")
    if kind.endswith("403"):
        for trade_id, record in seen.trades.items():
            if record and record.error_code == "INSUFFICIENT_BUYING_POWER" and seen.orders_of(trade_id):
                outcome.problems.append(
                    f"{trade_id}: failed INSUFFICIENT_BUYING_POWER while its order exists"
                )
    resends = sum(i.facts.get("resends refused", 0) for i in injections)
    outcome.notes.append(f"{resends} resend(s) refused by Alpaca")
    return outcome


# -- alpaca_disabled_after_crash --------------------------------------------------------------------------


def inject_disabled_after_crash(run: KindRun, seed: int) -> None:
    """An order request hangs after Alpaca accepted it; the account turns live and the execution stage is
    killed (-9) and started again, so Alpaca is off at its boot. Past the dead attempt's order lease a later
    attempt must not simulate; the paper account back and execution restarted, the order settles it."""
    # While the account is live no order reaches Alpaca: the other Alpaca kinds meet their orders first.
    run.first.wait(ORDER_KINDS, leaving=1)
    injection = begin("alpaca_disabled_after_crash")
    lease_s = reconcile_policy(run.settings).attempt_limit.total_seconds()
    with run.locks.account:
        known = {o["id"] for o in run.alpaca.orders()}
        armed = [_hang_next_order(run)]  # the slow fault now armed
        spent_at: list[float] = []  # when it was seen spent with no order hanging
        found: list[dict[str, Any]] = []

        def hung() -> bool:
            found.extend(_held_order(run, known))
            if found:
                return True
            # Spent on a request that left no order hanging (refused while another fault closed the market,
            # say), or cleared: armed again, so the kind still meets an order that hangs.
            if _remaining(run, armed[-1]["id"]) in (0, None):
                spent_at[:] = spent_at or [time.monotonic()]
                if time.monotonic() - spent_at[0] > REARM_AFTER_S:
                    armed.append(_hang_next_order(run))
                    spent_at.clear()
                    injection.facts["slow fault armed"] = f"{len(armed)} times"
            return False

        try:
            _submit_while(run, random.Random(seed), hung)
        finally:
            run.done_first("alpaca_disabled_after_crash", "an order hangs")
        if not found:
            injection.problems.append(f"no order request hung within {HIT_TIMEOUT_S}s")
            run.record(injection)
            return
        order = found[0]
        trade_id = uuid.UUID(order["client_order_id"])
        injection.trade_ids = [trade_id]
        started = time.time()
        run.alpaca.configure(account_number=CRASH_ACCOUNT)
        run.log.add("alpaca_disabled_after_crash", f"{CRASH_ACCOUNT}; execution killed under a hanging order")
        try:
            run.injector.kill_worker("execution", 0.0, " (while its order request hangs; Alpaca off at boot)")
            time.sleep(lease_s + 10)  # past the dead attempt's order lease: the redelivery is a later one
            try:
                then = _read_while_down(run, trade_id)
            except Exception as exc:  # the store stayed down (another fault) past the wait: say so, go on
                injection.facts["while Alpaca was off"] = f"unread ({type(exc).__name__})"
            else:
                injection.facts["while Alpaca was off"] = _described(then)
                if then is not None and then.execution_method == "simulation":
                    injection.problems.append(f"{trade_id}: simulated while its order existed at Alpaca")
        finally:
            run.alpaca.configure(account_number=None)
            run.log.guard_windows.append((started, time.time()))
            run.log.add("paper guard: paper account again", CRASH_ACCOUNT)
            run.injector.kill_worker("execution", 0.0, " (Alpaca on again at boot: start-up reconciliation)")
    run.record(injection)


def check_disabled_after_crash(seen: Seen, injections: list[Injection]) -> KindOutcome:
    trade_ids = [t for i in injections for t in i.trade_ids]
    outcome = KindOutcome.of("alpaca_disabled_after_crash", injections, len(trade_ids))
    for trade_id in trade_ids:
        orders, record = seen.orders_of(trade_id), seen.trades.get(trade_id)
        if len(orders) != 1:
            outcome.problems.append(f"{trade_id}: {len(orders)} orders at Alpaca")
        if record is None or record.status != "executed" or record.execution_method != "alpaca":
            outcome.problems.append(f"{trade_id}: ended {_described(record)}, not executed via Alpaca")
        elif orders and record.alpaca_order_id != orders[0]["id"]:
            outcome.problems.append(
                f"{trade_id}: recorded order {record.alpaca_order_id}, Alpaca's is {orders[0]['id']}"
            )
    outcome.notes += [f"while Alpaca was off: {i.facts.get('while Alpaca was off')}" for i in injections]
    return outcome


# -- alpaca_call_outlives_limit ---------------------------------------------------------------------------


def inject_call_outlives_limit(run: KindRun, times: int, seed: int) -> None:
    """Order requests that outlive the adapter's limit (TRADEFLOW_ALPACA_TIMEOUT_S): a 504 held just under
    it, and a request processed only after the client gave up."""
    injection = begin("alpaca_call_outlives_limit")
    limit = run.settings.tradeflow_alpaca_timeout_s
    held = run.alpaca.add_fault(
        "http_error",
        status=504,
        method="POST",
        path="/v2/orders",
        answer_after_s=round(limit * 0.9, 2),
        times=times,
    )
    slow = run.alpaca.add_fault(
        "slow", method="POST", path="/v2/orders", phase="before", delay_s=round(limit + 1, 2), times=times
    )
    run.log.add(
        "alpaca call outlives the limit", f"504 after {limit * 0.9:.1f}s and {limit + 1:.1f}s slow, ×{times}"
    )
    try:
        _submit_while(
            run, random.Random(seed), lambda: _remaining(run, held["id"]) == _remaining(run, slow["id"]) == 0
        )
    finally:
        run.done_first("alpaca_call_outlives_limit", "orders met")
    left = (_remaining(run, held["id"]) or 0) + (_remaining(run, slow["id"]) or 0)
    if left:
        injection.problems.append(f"{left} of {2 * times} slow order requests never came")
    injection.facts["since"] = injection.started
    run.record(injection)


async def check_call_outlives_limit(seen: Seen, injections: list[Injection]) -> KindOutcome:
    """Across every trade with an order request: one order at most, every request arrived before the trade
    was decided, and no trade beside an order at Alpaca was simulated or failed without the order's id."""
    asked = {uuid.UUID(r["client_order_id"]) for r in seen.order_requests if _is_uuid(r["client_order_id"])}
    asked &= set(seen.trades)
    outcome = KindOutcome.of("alpaca_call_outlives_limit", injections, len(asked))
    decided = await _decided_at(seen.store, asked)
    for trade_id in sorted(asked, key=str):
        orders, record = seen.orders_of(trade_id), seen.trades.get(trade_id)
        if len(orders) > 1:
            outcome.problems.append(f"{trade_id}: {len(orders)} orders")
        at = decided.get(trade_id)
        late = [r for r in seen.requests_of(trade_id) if at is not None and parse_time(r["received_at"]) > at]
        if late:
            outcome.problems.append(f"{trade_id}: an order request arrived {len(late)}× after it was decided")
        if orders and record is not None:
            if record.execution_method == "simulation":
                outcome.problems.append(f"{trade_id}: simulated beside Alpaca's order {orders[0]['id']}")
            elif record.status == "failed" and record.alpaca_order_id is None:
                outcome.problems.append(f"{trade_id}: failed {record.error_code} without its order's id")
    slow = sum(1 for r in seen.order_requests if r.get("fault") in ("slow", "http_error"))
    outcome.notes.append(f"{slow} slow or failed order request(s) in the run")
    return outcome


# -- shared -----------------------------------------------------------------------------------------------


STORE_BACK_WITHIN_S = 90.0  # longer than dynamodb_outage_long keeps the store down (75 s at most)


def _read_while_down(run: KindRun, trade_id: uuid.UUID) -> TradeRecord | None:
    """The trade as stored, read while Alpaca is still off: the store may be down for another fault (the
    long outage runs beside this kind), so the read is tried again until it answers or the wait is over."""
    deadline = time.monotonic() + STORE_BACK_WITHIN_S
    while True:
        try:
            record: TradeRecord | None = run.store_now(lambda store: store.get_trade(trade_id))
            return record
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(2.0)


def _submit_while(run: KindRun, rng: random.Random, done: Any) -> None:
    """Submit a trade now and then (each fault needs orders to meet) until `done()` or the deadline."""
    deadline = time.monotonic() + HIT_TIMEOUT_S
    next_submit = 0.0
    while not done() and time.monotonic() < deadline:
        if time.monotonic() >= next_submit:
            submitting = random.Random(rng.random())
            threading.Thread(target=run.probes.submit, args=(1, submitting), daemon=True).start()
            next_submit = time.monotonic() + PROBE_EVERY_S
        time.sleep(0.1)


def _hang_next_order(run: KindRun) -> dict[str, Any]:
    """The next order request is answered 30 s after Alpaca took it."""
    return run.alpaca.add_fault("slow", method="POST", path="/v2/orders", phase="after", delay_s=30, times=1)


def _fault(run: KindRun, fault_id: Any) -> dict[str, Any] | None:
    return next((f for f in run.alpaca.faults() if f.get("id") == fault_id), None)


def _remaining(run: KindRun, fault_id: Any) -> int | None:
    fault = _fault(run, fault_id)
    return None if fault is None else fault.get("remaining")


def _held_order(run: KindRun, known: set[str]) -> list[dict[str, Any]]:
    """A new order whose request is still unanswered (held by the slow fault) a moment later."""
    answered = {r["client_order_id"] for r in run.alpaca.order_requests()}
    fresh = [o for o in run.alpaca.orders() if o["id"] not in known and o["client_order_id"] not in answered]
    if not fresh:
        return []
    time.sleep(0.3)
    answered = {r["client_order_id"] for r in run.alpaca.order_requests()}
    return [o for o in fresh if o["client_order_id"] not in answered][:1]


def _described(record: TradeRecord | None) -> str:
    if record is None:
        return "no record"
    how = f" via {record.execution_method}" if record.execution_method else ""
    return f"{record.status}{how}" + (f" ({record.error_code})" if record.error_code else "")


async def _decided_at(store: TradeStore, trade_ids: set[uuid.UUID]) -> dict[uuid.UUID, float]:
    """When each trade's outcome was recorded (its trade_executed or trade_failed audit item)."""
    import asyncio

    gate = asyncio.Semaphore(16)

    async def one(trade_id: uuid.UUID) -> tuple[uuid.UUID, float | None]:
        async with gate:
            for key in (EVENT_KEYS["trade_executed"], EVENT_KEYS["trade_failed"]):
                item = await store.get_audit(trade_id, key)
                if item is not None:
                    return trade_id, item.timestamp.timestamp()
        return trade_id, None

    return {t: at for t, at in await asyncio.gather(*(one(t) for t in trade_ids)) if at is not None}


def _is_uuid(text: str | None) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True
