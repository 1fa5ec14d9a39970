"""Session audit: every Slack interaction the ingress handles is journaled in the "session" stream, and every
request refused for its signature in the "access" stream, with the address it came from.

Refusals are counted per source and reason per minute (access/journal.py: RefusalTally): the first is
journaled at once with its details, the rest as one summary when the minute ends, so an unsigned flood costs
a bounded number of writes. The summary of the last minute is written when the ingress stops.

Only named fields are written: the Slack user, team and channel, the action, Slack's request timestamp, the
source address, and the trade or view concerned. Never the bot token, the signing secret, the request's
signature, its body, a `response_url` (it lets anyone post to the channel for 30 minutes, no token needed)
or a `trigger_id` (a 3-second capability to open a view as the app; worth nothing to an auditor).

A write that meets a store outage is not lost: the entry is written again until the store is back, for as
long as the outage budget allows (journal_retries.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from messages.records import ActivityEvent, ActivityStream
from workers.access.journal import Journal, RefusalTally
from workers.slack.after_answer import DRAIN_TIMEOUT_S, AfterAnswer
from workers.slack.journal_retries import OUTAGE_BUDGET_S, JournalRetries
from workers.store.port import StoreUnavailable

logger = logging.getLogger("tradeflow.ingress.session")

# What the ingress puts in each request's bolt context for the listeners to journal.
SOURCE_ADDRESS = "tradeflow_source_address"
REQUEST_TS = "tradeflow_request_ts"
_HEADER_LIMIT = 64  # an unproven header is journaled, but never at length


class SessionAudit:
    """Journals interactions after Slack's answer; a journal write that fails never fails the interaction: a
    store outage is retried (`retries`), any other failure is logged."""

    def __init__(
        self,
        journal: Journal,
        after_answer: AfterAnswer,
        refusals: RefusalTally | None = None,
        *,
        outage_budget_s: float = OUTAGE_BUDGET_S,
        retries: JournalRetries | None = None,
    ) -> None:
        self.journal = journal
        self.after_answer = after_answer
        self.refusals = refusals or RefusalTally(journal)
        self.retries = retries or JournalRetries(journal, budget_s=outage_budget_s)
        self._summary: asyncio.Task[None] | None = None  # writes the refusals' summary when the window ends

    def interaction(self, action: str, context: Mapping[str, Any], **details: Any) -> None:
        """Journal `action` by the context's Slack user (bolt's context: user, team, channel)."""
        self._record(
            "session",
            action,
            context.get("user_id") or "",
            team_id=context.get("team_id"),
            enterprise_id=context.get("enterprise_id"),
            channel_id=context.get("channel_id"),
            request_ts=context.get(REQUEST_TS),
            source_address=context.get(SOURCE_ADDRESS),
            **details,
        )

    def refused(self, event_type: str, context: Mapping[str, Any], **details: Any) -> None:
        """Journal in the "access" stream that the context's Slack user was refused (`approval_refused`)."""
        self._record(
            "access",
            event_type,
            context.get("user_id") or "",
            team_id=context.get("team_id"),
            channel_id=context.get("channel_id"),
            request_ts=context.get(REQUEST_TS),
            source_address=context.get(SOURCE_ADDRESS),
            **details,
        )

    def request_refused(
        self, event_type: str, source_address: str | None, headers: Mapping[str, str], reason: str
    ) -> bool:
        """Count a refused request (`signature_refused`, `body_refused`): where it came from and why, never
        what it carried. True when it is the first of its source and reason this minute (worth a log line)."""
        entries = self.refusals.count(
            event_type,
            source_address,
            reason,
            # nobody is proven: the body's user id is not to be believed, so the actor is ""
            forwarded_for=_clip(headers.get("X-Forwarded-For")),
            request_ts=_clip(headers.get("X-Slack-Request-Timestamp")),
            user_agent=_clip(headers.get("User-Agent")),
        )
        for entry in entries:
            self.after_answer.start(self._append(entry), f"session audit entry {entry.event_type}")
        if self.refusals.pending and (self._summary is None or self._summary.done()):
            self._summary = asyncio.get_running_loop().create_task(self._summarize_at_window_end())
        return any("repeated" not in entry.details for entry in entries)

    async def close(self, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        """Journal the refusals counted and not written yet, then wait for the writes under way and give those
        waiting out an outage up to `timeout_s` (the ingress stops)."""
        if self._summary is not None:
            self._summary.cancel()  # it only ever waits: its writes run in after_answer
        for entry in self.refusals.close_window():
            await self._append(entry)
        await self.after_answer.drain(timeout_s)  # first tries: an outage's failures join the retries
        await self.retries.close(timeout_s)

    async def _summarize_at_window_end(self) -> None:
        while self.refusals.pending and self.refusals.seconds_left() > 0:
            await asyncio.sleep(self.refusals.seconds_left())
        for entry in self.refusals.close_if_ended():
            self.after_answer.start(self._append(entry), f"session audit summary {entry.event_type}")

    def _record(self, stream: ActivityStream, event_type: str, actor: str, **details: Any) -> None:
        entry = self.journal.entry(stream, event_type, actor, **details)  # stamped now, written next
        self.after_answer.start(self._append(entry), f"session audit entry {event_type}")

    async def _append(self, entry: ActivityEvent) -> None:
        try:
            await self.journal.append(entry)
        except StoreUnavailable:
            self.retries.add(entry)
        except Exception:
            actor = entry.actor or "unknown"
            logger.exception("Session audit entry %s of %s NOT journaled", entry.event_type, actor)


def _clip(value: str | None) -> str | None:
    return None if value is None else value[:_HEADER_LIMIT]
