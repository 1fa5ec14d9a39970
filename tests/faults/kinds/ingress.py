"""Faults met at the ingress, driven from Slack's side: a poison number in the form, the slash command or
`tradeflow submit`; and a real RabbitMQ resource alarm (a memory watermark of 0) while traders submit."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from emulators.slack import filling, payloads
from emulators.slack.driver import AckTimeout, AppResponse, SlackDriver
from tests.faults.cluster import RabbitCluster
from tests.faults.kinds.context import APPROVAL_KINDS, Injection, KindOutcome, KindRun, Seen, begin
from tests.waiting import eventually

ACK_DEADLINE_S = 3.0  # Slack's
RESTORED_WATERMARK = "0.4"  # RabbitMQ's default vm_memory_high_watermark

# The form's poison numbers and the field each must be refused under (Decimal reads them all; the wire's
# bounds refuse them, and the form must say so inline rather than dead-letter a message later).
POISON_FORMS = (
    ({"quantity": "1E-200"}, "quantity"),
    ({"quantity": "1.0000000001"}, "quantity"),  # ten decimal places
    ({"quantity": "1", "order_type": "limit", "limit_price": "9E+999999"}, "limit_price"),
)
POISON_COMMAND = "buy 1E-200 AAPL"


# -- poison_number ----------------------------------------------------------------------------------------


def inject_poison_number(run: KindRun, user: str) -> None:
    with run.locks.store:  # the session journal, checked afterwards, is written while the store is up
        _poison(run, user)


def _poison(run: KindRun, user: str) -> None:
    injection = begin("poison_number")
    driver = run.probes.driver(run.slack, user)
    views: dict[str, str] = {}
    for values, field in POISON_FORMS:
        view = _open_modal(driver, "buy 1 AAPL")
        trade_id = _trade_id(view)
        injection.trade_ids.append(trade_id)
        views[view["id"]] = field
        answer = asyncio.run(driver.submit_view(view, values))
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.elapsed_s >= ACK_DEADLINE_S or body.get("response_action") != "errors":
            injection.problems.append(
                f"form {values}: answered {json.dumps(body)[:120]} in {answer.elapsed_s:.1f}s"
            )
        elif set(body.get("errors") or {}) != {field}:
            injection.problems.append(f"form {values}: errors under {sorted(body['errors'])}, not {field}")
    command = asyncio.run(driver.slash_command(POISON_COMMAND))
    body = command.body if isinstance(command.body, dict) else {}
    if body.get("response_type") != "ephemeral" or "quantity" not in str(body.get("text")).lower():
        injection.problems.append(f"/trade {POISON_COMMAND}: answered {json.dumps(body)[:120]}")
    if driver.opened_view(command.trigger_id or "") is not None:
        injection.problems.append(f"/trade {POISON_COMMAND}: opened a modal")
    cli_trade = uuid.uuid4()
    injection.trade_ids.append(cli_trade)
    submit = ["submit", "--user", user, "--trade-id", str(cli_trade), "buy", "1E-200", "AAPL"]
    done = run.stack.cli(*submit)
    if done.returncode != 2 or "quantity" not in done.stderr:
        injection.problems.append(
            f"tradeflow submit 1E-200: exit {done.returncode}, {done.stderr.strip()[:120]}"
        )
    injection.facts["views"] = views
    run.log.add("poison_number", f"{len(POISON_FORMS)} forms, a slash command, tradeflow submit")
    run.record(injection)


async def check_poison_number(seen: Seen, injections: list[Injection]) -> KindOutcome:
    """Nothing was published for a poison number: no trade, order, DM or dead letter; the session journal
    shows each form refused with its field."""
    trade_ids = [t for i in injections for t in i.trade_ids]
    outcome = KindOutcome.of("poison_number", injections, len(trade_ids))
    dms = {json.dumps(m.get("metadata")) for m in seen.messages}
    for trade_id in trade_ids:
        if await seen.store.get_trade(trade_id) is not None:
            outcome.problems.append(f"{trade_id}: a trade exists")
        if seen.orders_of(trade_id) or any(str(trade_id) in dm for dm in dms):
            outcome.problems.append(f"{trade_id}: an order or a DM exists")
        if str(trade_id) in seen.dead_letter_trades:
            outcome.problems.append(f"{trade_id}: dead-lettered")
    if injections:
        since = datetime.fromtimestamp(min(i.started for i in injections), UTC) - timedelta(seconds=5)
        journal = await seen.store.list_activity("session", since, datetime.now(UTC) + timedelta(seconds=1))
        refused = {
            e.details.get("view_id"): e.details.get("fields")
            for e in journal
            if e.event_type == "view_submission" and e.details.get("outcome") == "form_errors"
        }
        for injection in injections:
            for view_id, field in injection.facts.get("views", {}).items():
                if field not in (refused.get(view_id) or []):
                    outcome.problems.append(
                        f"view {view_id}: no form_errors on {field} in the session journal"
                    )
    return outcome


# -- rabbitmq_blocked -------------------------------------------------------------------------------------


def inject_rabbitmq_blocked(run: KindRun, blocked_s: float, traders: list[str]) -> None:
    """A memory alarm on the node the ingress uses (every node's publishers are blocked, cluster-wide)
    while traders submit; each is answered within 3 s, and once it clears each is one trade, told once."""
    met = run.first.wait(APPROVAL_KINDS)  # see FirstKinds: it holds every publisher back
    injection = begin("rabbitmq_blocked")
    injection.facts["approval kinds done"] = met
    drivers = [run.probes.driver(run.slack, user) for user in traders]
    modals = [(driver, _open_modal(driver, "buy 1 AAPL")) for driver in drivers]
    injection.trade_ids = [_trade_id(view) for _, view in modals]
    answers: dict[str, list[str]] = {str(t): [] for t in injection.trade_ids}
    with run.locks.rabbitmq:
        node = run.rabbitmq.busiest() if isinstance(run.rabbitmq, RabbitCluster) else run.rabbitmq
        node.ctl("set_vm_memory_high_watermark", "0")
        started = time.monotonic()
        run.log.add("rabbitmq_blocked", f"{node.name}: vm_memory_high_watermark 0 for {blocked_s:.0f}s")
        try:
            _await_alarm(run)
            for driver, view in modals:
                _answer(injection, answers, driver, view, resubmit=False)
            time.sleep(max(0.0, started + blocked_s - time.monotonic()))
        finally:
            node.ctl("set_vm_memory_high_watermark", RESTORED_WATERMARK, check=False)
            run.log.add("rabbitmq memory alarm cleared", node.name)
    for driver, view in modals:  # the trader presses Execute Trade again, as the error says
        for _ in range(5):
            if _answer(injection, answers, driver, view, resubmit=True) == "submitting":
                break
            time.sleep(2.0)
    for trade_id, said in answers.items():
        run.probes.keep(uuid.UUID(trade_id), "submitting" in said, ",".join(said))
    injection.facts["answers"] = answers
    run.record(injection)


def check_rabbitmq_blocked(seen: Seen, injections: list[Injection]) -> KindOutcome:
    trade_ids = [t for i in injections for t in i.trade_ids]
    outcome = KindOutcome.of("rabbitmq_blocked", injections, len(trade_ids))
    for trade_id in trade_ids:
        if seen.trades.get(trade_id) is None:
            outcome.problems.append(f"{trade_id}: no trade after the alarm cleared")
        if not seen.told_how_it_ended(trade_id):
            outcome.problems.append(f"{trade_id}: not told how it ended, once")
        if len(seen.orders_of(trade_id)) > 1:
            outcome.problems.append(f"{trade_id}: {len(seen.orders_of(trade_id))} orders")
    for injection in injections:
        said = [a for answers in injection.facts.get("answers", {}).values() for a in answers]
        outcome.notes.append(", ".join(f"{word} {said.count(word)}" for word in sorted(set(said))))
    return outcome


def _answer(
    injection: Injection,
    answers: dict[str, list[str]],
    driver: SlackDriver,
    view: dict[str, Any],
    *,
    resubmit: bool,
) -> str:
    """Submit the modal as Slack would (again: the same payload); the answer in a word."""
    trade_id = str(_trade_id(view))
    try:
        answer = asyncio.run(_resubmit(driver, view) if resubmit else driver.submit_view(view))
    except AckTimeout:
        injection.problems.append(f"{trade_id}: no answer within {ACK_DEADLINE_S}s")
        answers[trade_id].append("no answer")
        return "no answer"
    word = _word(answer)
    if answer.elapsed_s >= ACK_DEADLINE_S or word == "other":
        injection.problems.append(
            f"{trade_id}: answered {json.dumps(answer.body)[:120]} in {answer.elapsed_s:.1f}s"
        )
    answers[trade_id].append(word)
    return word


def _word(answer: AppResponse) -> str:
    body = answer.body if isinstance(answer.body, dict) else {}
    if body.get("response_action") == "update" and "Submitting" in json.dumps(body.get("view")):
        return "submitting"
    said = json.dumps(body.get("errors") or {})
    if body.get("response_action") == "errors" and ("not confirmed" in said or "NOT submitted" in said):
        return "not confirmed" if "not confirmed" in said else "not submitted"
    return "other"


async def _resubmit(driver: SlackDriver, view: dict[str, Any]) -> AppResponse:
    """The same submission again (a second click, or Slack retrying): the modal's first payload."""
    config = driver.admin.config()
    state = filling.state_values(view, {}, kept=view["state"]["values"])
    payload = payloads.view_submission(
        config, view, state, user=(driver.user_id, driver.user_name), trigger_id="T0"
    )
    return await driver.post_signed(payloads.interactive(payload), payloads.FORM)


def _await_alarm(run: KindRun) -> None:
    """Until RabbitMQ reports the memory alarm (cluster_status lists it), at most 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = run.rabbitmq.ctl("cluster_status", "--formatter", "json", check=False).stdout.decode()
        try:
            if json.loads(status).get("alarms"):
                return
        except ValueError:
            pass
        time.sleep(0.2)


def _open_modal(driver: SlackDriver, text: str) -> dict[str, Any]:
    command = asyncio.run(driver.slash_command(text))
    view: dict[str, Any] = eventually(lambda: driver.opened_view(command.trigger_id or ""), timeout=15)
    return view


def _trade_id(view: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(json.loads(view["private_metadata"])["trade_id"])
