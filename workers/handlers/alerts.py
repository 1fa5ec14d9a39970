"""The alerts service: send each alert once to every recipient who chose its kind, by email and by SMS.

Each (alert, channel, address) is one send, guarded as a trader's DM is (notification.py): a marker in the
store says it went out, and a lease gives one delivery the send while it runs. A send that surely failed
frees its lease, so the retry sends at once.

A lease taken over from a holder that died (or whose send may have gone out: a timeout after the content
left) is a send that may have happened. Slack's DM history can be read back; an SMTP relay's or SNS's
cannot, and neither takes an idempotency key. The choice here is at-least-once: the new holder sends
again, once the old lease ran out (so a send still in flight has landed or died). An alert nobody
receives is worse than one received twice, and the twice is rare (a crash or a lost answer mid-send). An
email carries a Message-ID derived from the alert and the address, the same on every try, so a mail
server or client that has it already can drop the copy; an SMS has nothing of the kind.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta

from messages.alerts import AlertChannel, AlertChoice, AlertPreferences, SendAlert
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred
from workers.handlers.ports import AlertRefused, AlertUnavailable
from workers.store.port import LeaseClaim

logger = logging.getLogger("tradeflow.stage.alerts")

# Longer than one send may take (TRADEFLOW_ALERTS_TIMEOUT_S bounds it, at most 20 s): a dead holder
# delays its alert this long, and so does a send whose answer was lost.
ALERT_LEASE_MS = 30_000
RECHECK_MS = 1_000
# A sent alert's marker outlives any redelivery: a dead letter's 7 days in its XQ, then its replay.
MARKER_TTL = timedelta(days=30)


@dataclass(frozen=True)
class Delivery:
    """One send of an alert: the channel and the address on it."""

    channel: AlertChannel
    address: str

    def marker(self, alert: SendAlert) -> str:
        """The name of the marker (and of the lease) that makes this send happen once."""
        return f"alert#{alert.alert_id}#{self.channel}#{self.address.lower()}"


def deliveries_of(
    alert: SendAlert, preferences: AlertPreferences, approvers: Collection[str] = ()
) -> tuple[Delivery, ...]:
    """Where the alert goes: to the desk's choice, to the trader's own when the alert concerns a trader,
    and for an approval waiting to each approver's own (the trader hears it as the trader), each
    when it chose the alert's kind and the alert is not below its notional threshold. An address chosen
    twice is sent to once."""
    choices = [preferences.desk]
    if alert.user_id is not None and alert.user_id in preferences.users:
        choices.append(preferences.users[alert.user_id])
    if alert.kind == "approval_waiting":
        choices += [
            preferences.users[u] for u in sorted(approvers) if u in preferences.users and u != alert.user_id
        ]
    seen: dict[tuple[str, str], Delivery] = {}
    for choice in choices:
        if not wants(choice, alert):
            continue
        for channel, address in choice.channels:
            seen.setdefault((channel, address.lower()), Delivery(channel, address))
    return tuple(seen.values())


def wants(choice: AlertChoice, alert: SendAlert) -> bool:
    """Whether a recipient hears of this alert: its kind chosen, and a large trade not below the recipient's
    threshold (a large-trade alert of no known size is sent: the threshold cannot say it is small)."""
    if alert.kind not in choice.kinds:
        return False
    below = (
        alert.kind == "large_trade"
        and choice.min_notional is not None
        and alert.notional is not None
        and alert.notional < choice.min_notional
    )
    return not below


async def send_alert(alert: SendAlert, deps: Deps) -> None:
    """Send the alert to each of its recipients once: every send is tried; then a failure is raised (the
    message is retried, and the sends already made are skipped), or Deferred when another delivery holds
    a send."""
    if deps.alerts is None:
        logger.info(
            "Alert %s (%s) not sent: no alert channels here (TRADEFLOW_ALERTS=off)",
            alert.alert_id,
            alert.kind,
        )
        return None
    approvers: frozenset[str] = frozenset()
    if alert.kind == "approval_waiting":
        roster = await deps.store.get_roster()
        approvers = frozenset(user for user in roster.users if "approver" in roster.roles_of(user))
    deliveries = deliveries_of(alert, await deps.store.get_alert_preferences(), approvers)
    if not deliveries:
        logger.info(
            "Alert %s (%s): nobody chose it", alert.alert_id, alert.kind, extra={"outcome": "no_recipient"}
        )
        return None
    failures: list[AlertUnavailable] = []
    held: list[Delivery] = []
    for delivery in deliveries:
        try:
            if not await _send_once(alert, delivery, deps):
                held.append(delivery)
        except AlertUnavailable as exc:  # the others are still tried; a store fault stops them all
            failures.append(exc)
    if failures:
        _log_others(failures[1:])
        raise failures[0]
    if held:
        raise Deferred(
            f"alert {alert.alert_id}: {_names(held)} being sent by another delivery",
            retry_after_ms=RECHECK_MS,
        )
    return None


async def _send_once(alert: SendAlert, delivery: Delivery, deps: Deps) -> bool:
    """Send unless it was sent; False when another delivery holds the send (come back later)."""
    marker = delivery.marker(alert)
    if await deps.store.is_done(marker):
        logger.info(
            "Alert %s already sent by %s: this duplicate changes nothing", alert.alert_id, delivery.channel
        )
        return True
    now_ms = int(deps.clock().timestamp() * 1000)
    claim = await deps.store.claim_lease_over(marker, now_ms=now_ms, lease_ms=ALERT_LEASE_MS)
    if claim is LeaseClaim.HELD:
        return False
    # Asked again under the lease: a holder may have finished between the first look and the claim.
    if await deps.store.is_done(marker):
        return True
    if claim is LeaseClaim.TAKEN_OVER:  # at-least-once: see the module's docstring
        logger.warning(
            "Alert %s by %s: an earlier delivery may have sent it and died; sending it again",
            alert.alert_id,
            delivery.channel,
        )
    assert deps.alerts is not None
    try:
        await deps.alerts.send(delivery.channel, delivery.address, alert.subject, alert.body, key=marker)
    except AlertRefused as exc:
        # This address will never take it: settled, as sent, so no retry or replay tries it again (a
        # dead letter here could itself raise a dead-letters alert to the same address, over and over).
        logger.warning(
            "Alert %s refused by %s for one recipient, not sent: %s",
            alert.alert_id,
            delivery.channel,
            exc,
            extra={"outcome": "refused"},
        )
        await _mark_done(deps, marker)
        return True
    except AlertUnavailable as exc:
        if claim is LeaseClaim.TAKEN and exc.surely_unsent:
            # Nothing went out: free the lease, so the retry claims it at once instead of waiting it out.
            await _release(deps, marker, claimed_at_ms=now_ms)
        # Otherwise it may be out (or this delivery inherited that doubt): the lease stays and runs out,
        # and the retry that takes it over sends again.
        raise
    await _mark_done(deps, marker)
    logger.info(
        "Alert %s (%s) sent by %s",
        alert.alert_id,
        alert.kind,
        delivery.channel,
        extra={"outcome": "sent", "channel": delivery.channel},
    )
    return True


async def _mark_done(deps: Deps, marker: str) -> None:
    expires_at = int((deps.clock() + MARKER_TTL).timestamp())
    await deps.store.mark_done(marker, expires_at=expires_at)


async def _release(deps: Deps, lease: str, *, claimed_at_ms: int) -> None:
    try:
        await deps.store.release_lease(lease, claimed_at_ms=claimed_at_ms, lease_ms=ALERT_LEASE_MS)
    except Exception:  # the channel's failure is the one to report; the lease runs out by itself
        logger.warning("Could not release the alert lease %s; it runs out by itself", lease, exc_info=True)


def _log_others(failures: Iterable[Exception]) -> None:
    for exc in failures:
        logger.warning("Another send of this alert failed too (retried with it): %s", exc)


def _names(deliveries: Iterable[Delivery]) -> str:
    return ", ".join(delivery.channel for delivery in deliveries)
